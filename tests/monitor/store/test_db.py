from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine


def test_state_db_engine_connects_with_service_settings(engine: Engine, backend: str) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        if backend == "sqlite":
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 30_000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
