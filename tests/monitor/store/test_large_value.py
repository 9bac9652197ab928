"""monitor/dialect.py ``large_value``: a stored large binary value reads back byte for byte
(SQLite through incremental BLOB I/O, PostgreSQL through a plain SELECT)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import dialect
from monitor.store import ReferencePayload, ReferenceProfile

# several SQLite overflow pages, a value inside one page, and no bytes at all
VALUES = {"large": os.urandom(5_000_003), "small": b"\x00profile\xff", "empty": b""}


def _profile(session: Session, fingerprint: str, payload: bytes) -> int:
    """A summary row and its payload, flushed; the payload's key (the row's id)."""
    now = datetime.now(UTC)
    row = ReferenceProfile(
        model="m", fingerprint=fingerprint, descriptor={}, rows=0, metrics={}, created_at=now
    )
    session.add(row)
    session.flush()
    session.add(ReferencePayload(profile_id=row.id, profiles=payload))
    session.flush()
    return row.id


@pytest.fixture
def profiles_table(engine: Engine) -> Engine:
    ReferenceProfile.__table__.create(engine)  # type: ignore[attr-defined]
    ReferencePayload.__table__.create(engine)  # type: ignore[attr-defined]
    return engine


@pytest.mark.parametrize("name", list(VALUES))
def test_a_large_value_reads_back_as_written(profiles_table: Engine, name: str) -> None:
    with Session(profiles_table) as session:
        key = _profile(session, name, VALUES[name])
        session.commit()
    with Session(profiles_table) as session:
        got = dialect.large_value(session, ReferencePayload.profiles, key)
        assert got == VALUES[name]
        where = ReferencePayload.profile_id == key
        plain = session.scalar(select(ReferencePayload.profiles).where(where))
        assert got == plain  # the same as the driver's own read of the column
        assert isinstance(got, bytes)


def test_a_value_written_in_the_same_transaction_is_read(profiles_table: Engine) -> None:
    with Session(profiles_table) as session:
        # not committed: the scan that stores a summary reads in its transaction
        first, second = (
            _profile(session, "a", VALUES["large"]),
            _profile(session, "b", VALUES["small"]),
        )
        assert dialect.large_value(session, ReferencePayload.profiles, second) == VALUES["small"]
        assert dialect.large_value(session, ReferencePayload.profiles, first) == VALUES["large"]


def test_a_missing_row_has_no_value(profiles_table: Engine) -> None:
    with Session(profiles_table) as session:
        assert dialect.large_value(session, ReferencePayload.profiles, 12345) is None


def test_marking_a_summary_checked_leaves_its_payload_unwritten(
    profiles_table: Engine, backend: str
) -> None:
    """A fixed reference is marked checked once per ``refresh`` (every daily scan by
    default): on SQLite, which rewrites a whole row on UPDATE, that writes the few bytes of
    the summary's row, not its payload (when the payload was in the row, all of it)."""
    if backend != "sqlite":
        pytest.skip("how SQLite updates a row")
    with Session(profiles_table) as session:
        key = _profile(session, "checked", VALUES["large"])
        session.commit()
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        wal = Path(str(profiles_table.url.database) + "-wal")
        assert wal.stat().st_size == 0
        checked = update(ReferenceProfile).where(ReferenceProfile.id == key)
        session.execute(checked.values(identity="i", checked_at=datetime.now(UTC)))
        session.commit()
        assert 0 < wal.stat().st_size < len(VALUES["large"]) // 20
