"""The state DB's naming convention and shared column types (the ORM's declarative base is
:mod:`monitor.store.orm`: nothing here imports ``sqlalchemy.orm``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from monitor.dialect import stores_naive_times

# Stable constraint names, so Alembic migrations name what the models name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Segment value of a check computed on the whole window: a real value, not NULL, so unique
# keys and partial unique indexes treat "no segment" as one key on every backend.
WHOLE_WINDOW = ""


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite stores no offset, so values are converted to UTC on the way in and marked UTC on
    the way out; naive values are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the state DB stores aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if stores_naive_times(dialect) else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONDocument(TypeDecorator[Any]):
    """JSON everywhere, JSONB on PostgreSQL (indexable, compact).

    What ``JSON().with_variant(JSONB(), "postgresql")`` declares, with the PostgreSQL type
    looked up when a PostgreSQL dialect asks for it: importing SQLAlchemy's PostgreSQL dialect
    costs 20-70 ms of every command's start-up, and on a SQLite state DB nothing needs it.
    """

    impl = JSON
    cache_ok = True
    # as JSON's: None is stored as JSON null, and values are dicts and lists
    should_evaluate_none = True
    hashable = False

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


def json_type() -> Any:
    """JSON everywhere, JSONB on PostgreSQL (see :class:`JSONDocument`)."""
    return JSONDocument()
