"""The fast read path: PostgreSQL ``COPY (SELECT ...) TO STDOUT`` parsed by pyarrow.

Row-by-row tuples cost about a microsecond per value in Python; COPY streams the result as
CSV, which pyarrow's multithreaded parser turns into columns. The SELECT is the same
SQLAlchemy Core statement the plain path runs: it is compiled by the connection's dialect and
its bound values are passed to psycopg, which quotes them itself (PostgreSQL cannot bind
parameters inside COPY), so no value or identifier is pasted into SQL text by us.

Types follow the reflected SQLAlchemy types, not CSV inference: a text column of digits
stays text, an empty string stays an empty string, NULL stays null. Numbers travel in
PostgreSQL's shortest round-trip form (``extra_float_digits`` 1, the default since 12), so
floats arrive bit-identical to the tuple path.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# Bytes per parse block; pyarrow parses blocks on its thread pool.
_CSV_BLOCK = 1 << 24


def supports(conn: sa.Connection) -> bool:
    """Whether ``conn`` can use the COPY path (PostgreSQL through psycopg 3)."""
    dialect = conn.dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def copy_frame(conn: sa.Connection, stmt: sa.Select) -> pd.DataFrame:
    """The rows of ``stmt`` as a pandas frame, read through ``COPY ... TO STDOUT``."""
    table = copy_table(conn, stmt)
    return table.to_pandas(split_blocks=True, self_destruct=True)


def copy_table(conn: sa.Connection, stmt: sa.Select) -> pa.Table:
    compiled = stmt.compile(dialect=conn.dialect)
    names = [c.name for c in stmt.selected_columns]
    sql = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, HEADER false)"
    raw = conn.connection.driver_connection
    assert raw is not None
    buffer = io.BytesIO()
    try:
        with raw.cursor() as cursor:
            # One spelling of times (mixed offsets would not parse as one column); LOCAL
            # keeps it to this read's transaction, the pooled connection is unchanged.
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            with cursor.copy(sql, compiled.params) as copy:
                for chunk in copy:
                    buffer.write(chunk)
    except Exception as exc:  # a driver error: the caller reports it like any read error
        if type(exc).__module__.startswith("psycopg"):
            raise sa.exc.DBAPIError.instance(sql, compiled.params, exc, type(exc)) from exc
        raise
    return _parse(buffer, names, [_arrow_type(c.type) for c in stmt.selected_columns])


def _parse(buffer: io.BytesIO, names: list[str], types: list[Any]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as csv

    if buffer.tell() == 0:
        pairs = zip(names, types, strict=True)
        return pa.table({n: pa.array([], type=t or pa.string()) for n, t in pairs})
    buffer.seek(0)
    return csv.read_csv(
        buffer,
        read_options=csv.ReadOptions(column_names=names, block_size=_CSV_BLOCK),
        parse_options=csv.ParseOptions(newlines_in_values=True),
        convert_options=csv.ConvertOptions(
            column_types={n: t for n, t in zip(names, types, strict=True) if t is not None},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # "" is an empty string, bare empty is NULL
            true_values=["t"],
            false_values=["f"],
        ),
    )


def _arrow_type(kind: sa.types.TypeEngine[Any]) -> Any:
    """The Arrow type a column's CSV text is parsed as; ``None`` lets pyarrow infer."""
    import pyarrow as pa

    if isinstance(kind, sa.Boolean):
        return pa.bool_()
    if isinstance(kind, sa.Integer):
        return pa.int64()
    if isinstance(kind, sa.Float | sa.Numeric):
        return pa.float64()
    # Text, times (normalised later exactly as the tuple path's values) and anything else:
    # kept as text, so nothing is guessed from what the values happen to look like.
    if isinstance(kind, sa.types.NullType):
        return None  # a query's column: inferred, as the driver's tuples would be typed
    return pa.string()
