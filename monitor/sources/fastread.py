"""The fast read path for PostgreSQL: ADBC (Arrow from libpq in C).

Row-by-row tuples cost about a microsecond per value in Python. Through
``adbc-driver-postgresql`` (a dependency) the result arrives as Arrow columns built in C.
The SELECT is the same SQLAlchemy Core statement the plain path runs, compiled by the
PostgreSQL dialect (literals rendered by its own renderers, else server-side ``$n``
parameters); no value or identifier is pasted by us.

The columns then take the types the tuple path gives (:func:`conform`), so both paths feed
identical frames to the checks: ``real`` goes through its shortest decimal form as
PostgreSQL's text output does (the server casts it, ``::text::float8``, as it sends the
rows), ``numeric`` becomes float64, integers int64, times ns.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from monitor.sources.engines import TIMEOUT_MS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# Bytes per ADBC batch (the driver's default), and of batches copied into compact columns
# at a time (see adbc_table).
_BATCH_BYTES = 16 << 20
_GROUP_BYTES = 32 << 20


def supports(conn: sa.Connection) -> bool:
    """Whether ``conn`` can use the fast path (PostgreSQL through psycopg 3)."""
    dialect = conn.dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def fast_frame(
    conn: sa.Connection,
    stmt: sa.Select[*tuple[Any, ...]],
    *,
    categorical: Collection[str] = (),
    parts: Sequence[sa.Select[*tuple[Any, ...]]] | None = None,
) -> pd.DataFrame:
    """The rows of ``stmt`` as a pandas frame, read through ADBC.

    Text columns named in ``categorical`` arrive as pandas categoricals: dictionary-encoded
    in Arrow, they never become one Python string object per row (at 1M rows x 5 such
    columns, about 330 MB of objects against 5 MB of codes).

    ``parts`` (statements whose rows together are ``stmt``'s, e.g. slices of its window) are
    read by ADBC at once, each on its own connection: PostgreSQL runs one backend per
    statement, and producing the rows is most of a large read's time.
    """
    if parts:
        table = _adbc_parts(conn, parts, categorical)
    else:
        table = adbc_table(conn, stmt, categorical=categorical)
    frame = table.to_pandas(split_blocks=True, self_destruct=True, coerce_temporal_nanoseconds=True)
    del table
    release_memory()
    return frame


def release_memory() -> None:
    """Hand freed memory back to the system before the next large step.

    Arrow's allocator keeps freed buffers for reuse, and glibc keeps freed heap pages (the
    driver's batches) until trimmed; neither is a leak, but both count in the peak.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim`` from the process's own symbols, or None (another libc)."""
    import ctypes

    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):  # no dlopen(NULL) (Windows)
        return None


def adbc_table(
    conn: sa.Connection,
    stmt: sa.Select[*tuple[Any, ...]],
    *,
    categorical: Collection[str] = (),
) -> pa.Table:
    """``stmt`` run by ADBC on its own read-only connection to the same database.

    Without parameters ADBC streams the result with ``COPY ... (FORMAT binary)`` in batches;
    with parameters libpq buffers the whole result first (about five times the Arrow size
    at 1M rows x 30 columns). So the bound values are rendered by the PostgreSQL dialect's
    own literal renderers (quoting and escaping are SQLAlchemy's, never ours); a value
    without a literal renderer falls back to server-side ``$n`` parameters.

    The driver's batches carry spare capacity and are freed only as whole batches, so every
    ``_GROUP_BYTES`` of them are copied into compact columns (text in ``categorical``
    dictionary-encoded) and let go: the peak is the result plus one group, not the
    driver's batches plus the result.
    """
    import adbc_driver_postgresql
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow as pa

    sql, params = _adbc_statement(conn, _real_as_decimal(stmt))
    parts: list[pa.Table] = []
    try:
        with (
            adbc.connect(_libpq_uri(conn.engine.url, timeout_ms=conn.info.get(TIMEOUT_MS))) as raw,
            raw.cursor() as cursor,
        ):
            hint = adbc_driver_postgresql.StatementOptions.BATCH_SIZE_HINT_BYTES.value
            cursor.adbc_statement.set_options(**{hint: str(_BATCH_BYTES)})
            cursor.execute(sql, params or None)
            reader = cursor.fetch_record_batch()
            group: list[pa.RecordBatch] = []
            size = 0
            for batch in reader:
                group.append(batch)
                size += batch.nbytes
                if size >= _GROUP_BYTES:
                    parts.append(_compact(group, reader.schema, stmt, categorical))
                    group, size = [], 0
                    release_memory()  # the group's batches, or the next one grows the heap
            parts.append(_compact(group, reader.schema, stmt, categorical))
    except adbc.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, adbc.Error) from exc
    except OSError as exc:  # an error while streaming (e.g. a statement timeout) comes as Arrow's
        raise sa.exc.OperationalError(sql, params, exc) from exc
    return pa.concat_tables(parts)


def _adbc_parts(
    conn: sa.Connection,
    parts: Sequence[sa.Select[*tuple[Any, ...]]],
    categorical: Collection[str],
) -> pa.Table:
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa

    with ThreadPoolExecutor(len(parts), thread_name_prefix="adbc-read") as pool:
        tables = list(pool.map(lambda s: adbc_table(conn, s, categorical=categorical), parts))
    return pa.concat_tables(tables)


def _compact(
    batches: list[pa.RecordBatch],
    schema: pa.Schema,
    stmt: sa.Select[*tuple[Any, ...]],
    categorical: Collection[str],
) -> pa.Table:
    import pyarrow as pa

    table = conform(pa.Table.from_batches(batches, schema=schema), stmt)
    batches.clear()  # the group's batches are freed once this copy no longer needs them
    return dictionary_encode(table.combine_chunks(), categorical)


def _real_as_decimal(stmt: sa.Select[*tuple[Any, ...]]) -> sa.Select[*tuple[Any, ...]]:
    """``stmt`` with its ``real`` columns selected as ``col::text::float8``: the value of the
    shortest decimal PostgreSQL prints for a ``real`` (what the tuple path reads), made by
    the server as it writes the rows, not by Arrow here (~0.2 s of CPU per 1M values)."""
    from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

    selected = list(stmt.selected_columns.items())
    if not any(isinstance(column.type, sa.REAL) for _, column in selected):
        return stmt
    columns = [
        sa.cast(sa.cast(column, sa.Text), DOUBLE_PRECISION).label(name)
        if isinstance(column.type, sa.REAL)
        else column
        for name, column in selected
    ]
    return stmt.with_only_columns(*columns, maintain_column_froms=True)


def _adbc_statement(
    conn: sa.Connection, stmt: sa.Select[*tuple[Any, ...]]
) -> tuple[str, list[Any]]:
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    try:
        literal = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        return str(literal), []
    except sa.exc.CompileError:
        pass
    # asyncpg's dialect compiles to PostgreSQL's own $1, $2 placeholders; no asyncpg needed.
    compiled = stmt.compile(dialect=PGDialect_asyncpg())  # type: ignore[no-untyped-call]  # SQLAlchemy leaves this dialect's __init__ unannotated
    return str(compiled), [compiled.params[name] for name in compiled.positiontup or []]


def _libpq_uri(url: sa.URL, *, timeout_ms: int | None = None) -> str:
    """``url`` for libpq, read-only for the whole session and with the source's statement
    timeout (ADBC opens its own connection, which the engine's settings do not reach)."""
    from urllib.parse import quote, urlencode

    base = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    settings = ["-c default_transaction_read_only=on"]
    if timeout_ms is not None:
        settings.append(f"-c statement_timeout={int(timeout_ms)}")
    query = dict(url.query) | {"options": " ".join(settings)}
    return f"{base}?{urlencode(query, quote_via=quote, doseq=True)}"


def conform(table: pa.Table, stmt: sa.Select[*tuple[Any, ...]]) -> pa.Table:
    """``table``'s columns in the types the tuple path would give (see the module docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for array, column in zip(table.columns, stmt.selected_columns, strict=True):
        kind = array.type
        if pa.types.is_float32(kind):
            array = pc.cast(pc.cast(array, pa.string()), pa.float64())
        elif pa.types.is_integer(kind):
            array = pc.cast(array, pa.int64())
        elif isinstance(column.type, sa.Numeric) and not pa.types.is_floating(kind):
            array = pc.cast(pc.cast(array, pa.string()), pa.float64())
        columns.append(array)
    return pa.table(columns, names=table.column_names)


def dictionary_encode(table: pa.Table, names: Collection[str]) -> pa.Table:
    """``table`` with its text columns among ``names`` dictionary-encoded."""
    import pyarrow as pa

    for i, name in enumerate(table.column_names):
        kind = table.schema.field(i).type
        if name in names and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            table = table.set_column(i, name, table.column(i).dictionary_encode())
    return table
