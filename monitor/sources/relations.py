"""Tables and read-only queries as SQLAlchemy selectables with validated columns.

Identifiers from the config are looked up in the reflected table (or in the columns a query
returns) and used as column objects, so SQLAlchemy quotes them; none is pasted into SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from monitor import dialect
from monitor.sources.errors import SourceError
from monitor.sources.readonly import check_read_only


@dataclass(frozen=True)
class Relation:
    """Where a model's rows come from: a reflected table or a read-only query."""

    label: str
    selectable: sa.FromClause

    def column(self, name: str, *, model: str, role: str) -> sa.ColumnElement[object]:
        try:
            return self.selectable.c[name]
        except KeyError:
            available = ", ".join(sorted(self.selectable.c.keys()))
            raise SourceError(
                f"model {model!r}: {role} column {name!r} not found in {self.label}; "
                f"available: {available}"
            ) from None

    def has(self, name: str) -> bool:
        return name in self.selectable.c


def reflect_table(engine: Engine, name: str, *, model: str) -> Relation:
    """The table ``name`` (``schema.table`` allowed) with its columns read from the database."""
    schema, _, table = name.rpartition(".")
    try:
        reflected = sa.Table(table, sa.MetaData(), schema=schema or None, autoload_with=engine)
    except NoSuchTableError:
        raise SourceError(f"model {model!r}: table {name!r} not found") from None
    except SQLAlchemyError as exc:
        raise SourceError(f"model {model!r}: cannot read table {name!r}: {_short(exc)}") from None
    return Relation(f"table {name!r}", reflected)


def query_relation(engine: Engine, query: str, *, model: str) -> Relation:
    """A read-only SELECT as a subquery whose columns are the ones it returns."""
    body = check_read_only(query, model=model)
    try:
        with engine.connect() as conn:
            dialect.read_only(conn)  # a second guard, as for the reads
            names = list(conn.execute(_probe(body)).keys())
    except SQLAlchemyError as exc:
        raise SourceError(f"model {model!r}: query fails: {_short(exc)}") from None
    columns: list[sa.ColumnClause[Any]] = [sa.column(name) for name in names]
    return Relation("the model's query", sa.text(body).columns(*columns).subquery("logs"))


def _probe(body: str) -> sa.TextClause:
    # Zero rows, but the driver still reports the column names the query returns.
    return sa.text(f"SELECT * FROM ({body}) AS probe WHERE 1 = 0")


def _short(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]
