"""Alembic environment: metadata from monitor, connection or URL passed programmatically."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from monitor.store import make_engine, tables

config = context.config
target_metadata = tables.metadata  # every table (the ORM classes map these same ones)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: run `monitor db upgrade` (it passes the state_db URL)")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; use `monitor db upgrade`")
run_migrations_online()
