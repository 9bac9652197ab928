"""What differs between SQL dialects, in one place: every other module asks here.

SQLAlchemy ``@compiles`` constructs where SQL differs (a percentile), and small functions
where the statement or the session setting differs (an insert that may conflict, a read-only
transaction, a statement timeout, claiming rows other workers skip). The state DB is
PostgreSQL or SQLite (DESIGN.md); log sources may be any dialect, so the source-side
constructs have a standard-SQL default.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler


class percentile(sa.sql.expression.ColumnElement[float]):
    """The ``fraction`` quantile of the non-null values of ``column`` (a column of a
    subquery), interpolated linearly between order statistics as numpy's default does.

    A scalar subquery over the column's own subquery, so ``select(percentile(c, 0.5))`` is
    one statement on every dialect: PostgreSQL ``percentile_cont``, DuckDB
    ``quantile_cont``, elsewhere the two order statistics picked with ``row_number()``.
    """

    inherit_cache = False
    type = sa.Float()

    def __init__(self, column: sa.ColumnElement[Any], fraction: float) -> None:
        self.column = column
        self.fraction = float(fraction)


@compiles(percentile, "postgresql")
def _percentile_postgresql(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    ordered = sa.func.percentile_cont(element.fraction).within_group(element.column)
    return compiler.process(_over_rows(element, ordered), **kw)


@compiles(percentile, "duckdb")
def _percentile_duckdb(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    expr = sa.func.quantile_cont(element.column, element.fraction)
    return compiler.process(_over_rows(element, expr), **kw)


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


def _over_rows(element: percentile, expr: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
    col = element.column
    return sa.select(expr).where(col.is_not(None)).scalar_subquery()


def insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` into a state-DB table with ``on_conflict_do_nothing`` / ``_do_update``."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"state DB dialect {name!r}")  # pragma: no cover - DESIGN.md


def locks_rows(session: Session) -> bool:
    """Whether ``SELECT ... FOR UPDATE SKIP LOCKED`` claims rows (PostgreSQL); SQLite has
    no row locks, and a conditional UPDATE per row decides instead."""
    return session.get_bind().dialect.name == "postgresql"


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
