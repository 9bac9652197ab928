"""State database plumbing: declarative base, engine and session factories.

Nothing here runs at import time; callers build an engine from the configured URL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool

# Stable constraint names, so Alembic migrations name what the models name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PoolSettings(Protocol):
    """A connection pool's bounds (the config's ``state_db_pool`` and ``sources.*.pool``)."""

    size: int
    max_overflow: int
    timeout: timedelta


def pool_options(url: str, pool: PoolSettings | None) -> dict[str, Any]:
    """``create_engine`` arguments for ``pool``, where the URL's dialect pools connections
    in a QueuePool (PostgreSQL, a SQLite file, most warehouses); none otherwise (SQLite in
    memory keeps one connection per thread and takes no bounds)."""
    if pool is None:
        return {}
    parsed = make_url(url)
    dialect: Any = parsed.get_dialect()  # the class; get_pool_class is DefaultDialect's
    if not issubclass(dialect.get_pool_class(parsed), QueuePool):
        return {}
    return {
        "pool_size": pool.size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.timeout.total_seconds(),
    }


def make_engine(url: str, *, pool: PoolSettings | None = None, **kwargs: Any) -> Engine:
    """Create an engine for the state DB; SQLite gets WAL mode, foreign keys and a busy timeout.

    ``pool`` bounds the connections (``monitor run`` passes ``state_db_pool``)."""
    kwargs = {**pool_options(url, pool), **kwargs}
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
