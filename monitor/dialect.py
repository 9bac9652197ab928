"""What differs between SQL dialects, in one place: every other module asks here.

SQLAlchemy ``@compiles`` constructs where SQL differs (a percentile), and small functions
where the statement or the session setting differs (an insert that may conflict, a read-only
transaction, a statement timeout, claiming rows other workers skip). The state DB is
PostgreSQL or SQLite (DESIGN.md); log sources may be any dialect, so the source-side
constructs have a standard-SQL default.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.compiler import DDLCompiler, SQLCompiler

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.orm import QueryableAttribute, Session

#: the dialects whose ``CREATE INDEX`` takes a ``WHERE`` clause (see :func:`partial_index`)
_PARTIAL_INDEX_DIALECTS = ("postgresql", "sqlite")
_PARTIAL_WHERE = "monitor_partial_where"


class percentile(sa.sql.expression.ColumnElement[float]):
    """The ``fraction`` quantile of the non-null values of ``column`` (a column of a
    subquery), interpolated linearly between order statistics as numpy's default does.

    An aggregate over the rows of the SELECT it is in (``select(percentile(c, 0.5),
    count()).select_from(rows)``), so it shares one statement with other aggregates:
    PostgreSQL and Spark ``percentile_cont``, DuckDB ``quantile_cont`` (which skip NULLs).
    Where the dialect has no such aggregate, an uncorrelated scalar subquery over the
    column's own subquery picks the two order statistics with ``row_number()``; it is
    constant over the rows, so the enclosing SELECT must aggregate (or it repeats per row).
    """

    inherit_cache = False
    type = sa.Float()

    def __init__(self, column: sa.ColumnElement[Any], fraction: float) -> None:
        self.column = column
        self.fraction = float(fraction)


@compiles(percentile, "postgresql")
def _percentile_postgresql(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    ordered = sa.func.percentile_cont(element.fraction).within_group(element.column)
    return compiler.process(ordered, **kw)


@compiles(percentile, "duckdb")
def _percentile_duckdb(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    expr = sa.func.quantile_cont(element.column, element.fraction)
    return compiler.process(expr, **kw)


@compiles(percentile)
def _percentile_standard(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    col = element.column
    ordered = (
        sa.select(
            col.label("v"),
            (sa.func.row_number().over(order_by=col) - 1).label("i"),
            (sa.literal(element.fraction) * (sa.func.count().over() - 1)).label("pos"),
        )
        .where(col.is_not(None))
        .subquery("ordered")
    )
    pos = ordered.c.pos
    truncated = sa.cast(pos, sa.Integer)  # truncates or rounds by dialect: floor it
    low = truncated - sa.case((truncated > pos, 1), else_=0)
    high = low + sa.case((pos > low, 1), else_=0)
    pair = sa.select(
        sa.func.max(sa.case((ordered.c.i == low, ordered.c.v))).label("low"),
        sa.func.max(sa.case((ordered.c.i == high, ordered.c.v))).label("high"),
        sa.func.max(pos - low).label("t"),
    ).subquery("pair")
    value = pair.c.low + (pair.c.high - pair.c.low) * pair.c.t
    return compiler.process(sa.select(value).scalar_subquery(), **kw)


@compiles(percentile, "hive")
@compiles(percentile, "databricks")
@compiles(percentile, "snowflake")
def _percentile_spark(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    """Spark SQL (the Thrift server through PyHive, or Databricks SQL) and Snowflake have
    ``percentile_cont ... WITHIN GROUP``, exact and interpolated as numpy's default."""
    return _percentile_postgresql(element, compiler, **kw)


@compiles(percentile, "trino")
def _percentile_trino(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    """Trino has no exact percentile: ``approx_percentile`` (a q-digest, within about 1%
    of rank), documented in docs/warehouses.md."""
    expr = sa.func.approx_percentile(element.column, element.fraction)
    return compiler.process(expr, **kw)


@compiles(percentile, "clickhouse")
def _percentile_clickhouse(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    """ClickHouse's parametric aggregate ``quantileExactInclusive(p)(x)``: exact, and
    interpolated as numpy's default (plain ``quantile`` samples a reservoir)."""
    fraction = repr(element.fraction)  # a float we made: nothing from the config text
    expr: sa.ColumnElement[Any] = sa.literal_column(
        f"quantileExactInclusive({fraction})({compiler.process(element.column, **kw)})"
    )
    return compiler.process(expr, **kw)


@compiles(percentile, "bigquery")
def _percentile_bigquery(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    """BigQuery's ``APPROX_QUANTILES(x, 1000)[OFFSET(k)]``: approximate, to 1/1000."""
    k = round(element.fraction * 1000)
    expr: sa.ColumnElement[Any] = sa.literal_column(
        f"APPROX_QUANTILES({compiler.process(element.column, **kw)}, 1000)[OFFSET({k})]"
    )
    return compiler.process(expr, **kw)


class Timestamp(sa.types.TypeDecorator[datetime]):
    """A window bound compared with a timestamp column.

    PyHive (Spark's Thrift server, Hive) pastes parameters into the SQL text as strings and
    drops a datetime's zone: there the bound is sent as ISO text with its UTC offset inside
    ``CAST(... AS TIMESTAMP)``, which Spark reads in that offset whatever the session's
    time zone. Other dialects bind the datetime as ``DateTime`` does.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None or not _pastes_parameters(dialect):
            return value
        return value.isoformat(sep=" ")

    def bind_expression(self, bindvalue: Any) -> sa.ColumnElement[Any]:
        return _timestamp_bind(bindvalue)


class _timestamp_bind(sa.sql.expression.ColumnElement[datetime]):
    inherit_cache = True

    def __init__(self, bind: sa.ColumnElement[Any]) -> None:
        self.bind = bind
        self.type = bind.type


@compiles(_timestamp_bind)
def _timestamp_bind_default(element: _timestamp_bind, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.bind, **kw)


@compiles(_timestamp_bind, "hive")
def _timestamp_bind_hive(element: _timestamp_bind, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.bind, **kw)} AS TIMESTAMP)"


class StoredTime(sa.types.TypeDecorator[Any]):
    """A stored timestamp read as the driver returns it (text for SQLite, so its spelling
    shows). PyHive returns a ``TIMESTAMP`` as text too: parsed here, so a Spark timestamp
    column is compared as a timestamp, not matched as text."""

    impl = sa.String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and _pastes_parameters(dialect):
            return datetime.fromisoformat(value)
        return value


def _pastes_parameters(dialect: Dialect) -> bool:
    """PyHive's dialects (Spark Thrift / Hive) format parameters into the statement text."""
    return dialect.name == "hive"


def state_dialect(bind: Connection | Session) -> str:
    """The name of the state DB's dialect, from a Core connection or an ORM session."""
    if isinstance(bind, Connection):
        return bind.dialect.name
    return bind.get_bind().dialect.name


def insert(session: Connection | Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` into a state-DB table with ``on_conflict_do_nothing`` / ``_do_update``."""
    name = state_dialect(session)
    # imported here: the state DB's own dialect is loaded already, the other need not be
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise NotImplementedError(f"state DB dialect {name!r}")  # pragma: no cover - DESIGN.md


def locks_rows(session: Connection | Session) -> bool:
    """Whether ``SELECT ... FOR UPDATE SKIP LOCKED`` claims rows (PostgreSQL); SQLite has
    no row locks, and a conditional UPDATE per row decides instead."""
    return state_dialect(session) == "postgresql"


def read_only(conn: Connection) -> None:
    """Make the connection's transaction refuse writes where the database can
    (PostgreSQL): a second guard beside the read-only query check."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def statement_timeout(dialect: Dialect, milliseconds: int) -> str | None:
    """The session statement that cancels statements running longer, where every driver
    honours one (PostgreSQL ``statement_timeout``); else None."""
    if dialect.name != "postgresql":
        return None
    return f"SET statement_timeout = {int(milliseconds)}"


def stores_naive_times(dialect: Dialect) -> bool:
    """SQLite has no time zone type: aware UTC times are stored naive, read back as UTC."""
    return dialect.name == "sqlite"


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> sa.Index:
    """An index of the rows matching ``where`` (SQL text) on PostgreSQL and SQLite.

    What ``Index(..., postgresql_where=..., sqlite_where=...)`` declares, without naming the
    dialects when the table is defined: SQLAlchemy checks such options by importing each named
    dialect, and importing the PostgreSQL one costs every command on a SQLite state DB 20-70 ms
    of start-up. The option is set when the index is created (``create_all``), where that
    dialect is loaded anyway; the migrations create the same index with the same clause.
    """
    return sa.Index(name, *columns, unique=unique, info={_PARTIAL_WHERE: where})


@compiles(CreateIndex)
def _create_index(element: CreateIndex, compiler: DDLCompiler, **kw: Any) -> str:
    index = element.element
    where = index.info.get(_PARTIAL_WHERE)
    name = compiler.dialect.name
    if where is not None and name in _PARTIAL_INDEX_DIALECTS:
        options = index.dialect_options[name]
        if options.get("where") is None:
            options["where"] = sa.text(where)
    create: str = compiler.visit_create_index(element, **kw)  # type: ignore[no-untyped-call]
    return create


def large_value(session: Session, attribute: QueryableAttribute[bytes], key: int) -> bytes | None:
    """The value of ``attribute`` (a large binary column of a state-DB table whose primary
    key is the integer ``key``) in that row, read whole; ``None`` if there is no such row.

    SQLite reads it with incremental BLOB I/O straight into one buffer of its final size: a
    SELECT first assembles the value from its overflow pages into a buffer of SQLite's own,
    which the driver then copies into a bytes object (two copies of a 100+ MB profile).
    Other databases (PostgreSQL) select it plainly.
    """
    column = cast("sa.Column[bytes]", attribute.expression)
    (primary,) = column.table.primary_key.columns
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = cast("sqlite3.Connection", connection.connection.driver_connection)
        try:
            blob = raw.blobopen(column.table.name, column.name, key, readonly=True)
        except raw.OperationalError:  # no such row (or a NULL value: not a blob)
            return session.scalar(sa.select(column).where(primary == key))
        with blob:
            value: bytes = blob.read()
        return value
    return session.scalar(sa.select(column).where(primary == key))


#: bytes of a large value written at a time into SQLite's blob (see :func:`insert_large`)
_BLOB_CHUNK = 1 << 20


def insert_large(
    session: Session, stmt: postgresql.Insert | sqlite.Insert, row: dict[str, Any], *, large: str
) -> None:
    """Run ``stmt``, an ``INSERT ... ON CONFLICT DO NOTHING`` (:func:`insert`), for ``row``,
    whose value ``row[large]`` is large (a stored reference summary), without copies of it
    beside the caller's.

    The row goes in as the execution's parameters: a statement built with ``.values()``, or
    an ORM object, would keep the value for as long as it lives. On SQLite, binding it would
    copy it twice more (pysqlite binds a copy, left bound to the cached statement after the
    insert, and the record SQLite builds is a third), 160 MB each for a 1M-row reference:
    the row is inserted with a ``zeroblob`` of the value's size instead, and the value is
    written into it in place, a chunk at a time, through SQLite's incremental blob I/O, in
    the same transaction. A row that conflicts (stored first by a concurrent scan) is left
    as it is. On PostgreSQL the bound value is freed with the execution; what stays is the
    connection's own send buffer (libpq's), which nothing here can shrink.
    """
    conn = session.connection()  # Core, not the ORM's bulk insert of an entity
    if conn.dialect.name != "sqlite":
        conn.execute(stmt, row)
        return
    value = row[large]
    rest = {k: v for k, v in row.items() if k != large}
    result = conn.execute(stmt.values({large: sa.func.zeroblob(len(value))}), rest)
    if result.rowcount != 1:  # the row is there already: ours is the same, theirs stays
        return
    raw: Any = conn.connection.dbapi_connection
    view = memoryview(value)
    try:
        with raw.blobopen(stmt.table.name, large, result.lastrowid) as blob:
            for start in range(0, len(view), _BLOB_CHUNK):
                blob.write(view[start : start + _BLOB_CHUNK])
    except BaseException:
        # the row holds zeros, not the value: taken out again, so that whatever commits
        # this transaction (a scan stored with its error) commits no broken cache entry
        rowid: sa.ColumnElement[int] = sa.literal_column(
            "rowid"
        )  # what blobopen addressed the row by
        conn.execute(sa.delete(stmt.table).where(rowid == result.lastrowid))
        raise
