from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine


def test_state_db_engine_connects_with_service_settings(engine: Engine, backend: str) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        if backend == "sqlite":
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 30_000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA secure_delete")).scalar_one() == 2  # FAST


def test_deleting_a_large_summary_writes_no_zeros(engine: Engine, backend: str) -> None:
    """A deleted blob's overflow pages are freed, not overwritten: the delete of a summary
    (a rolling reference's, every scan) writes a few pages to the WAL, not the blob's size
    in zeros as a SQLite built with secure_delete=ON (Debian's) does by default."""
    if backend != "sqlite":
        pytest.skip("a SQLite pragma")
    size = 8 << 20
    wal = Path(str(engine.url.database) + "-wal")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE blob_probe (id INTEGER PRIMARY KEY, payload BLOB)"))
        conn.execute(text("INSERT INTO blob_probe (payload) VALUES (zeroblob(:n))"), {"n": size})
        conn.commit()
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        assert wal.stat().st_size == 0
        conn.execute(text("DELETE FROM blob_probe"))
        conn.commit()
        assert wal.stat().st_size < size // 8
        conn.execute(text("DROP TABLE blob_probe"))
        conn.commit()
