"""monitor/dialect.py ``large_value``: a stored large binary value reads back byte for byte
(SQLite through incremental BLOB I/O, PostgreSQL through a plain SELECT)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import dialect
from monitor.store import ReferenceProfile

# several SQLite overflow pages, a value inside one page, and no bytes at all
VALUES = {"large": os.urandom(5_000_003), "small": b"\x00profile\xff", "empty": b""}


def _profile(fingerprint: str, payload: bytes) -> ReferenceProfile:
    now = datetime.now(UTC)
    return ReferenceProfile(
        model="m",
        fingerprint=fingerprint,
        descriptor={},
        rows=0,
        profiles=payload,
        metrics={},
        created_at=now,
    )


@pytest.fixture
def profiles_table(engine: Engine) -> Engine:
    ReferenceProfile.__table__.create(engine)  # type: ignore[attr-defined]
    return engine


@pytest.mark.parametrize("name", list(VALUES))
def test_a_large_value_reads_back_as_written(profiles_table: Engine, name: str) -> None:
    with Session(profiles_table) as session:
        row = _profile(name, VALUES[name])
        session.add(row)
        session.commit()
        key = row.id
    with Session(profiles_table) as session:
        got = dialect.large_value(session, ReferenceProfile.profiles, key)
        assert got == VALUES[name]
        plain = session.scalar(select(ReferenceProfile.profiles).where(ReferenceProfile.id == key))
        assert got == plain  # the same as the driver's own read of the column
        assert isinstance(got, bytes)


def test_a_value_written_in_the_same_transaction_is_read(profiles_table: Engine) -> None:
    with Session(profiles_table) as session:
        first, second = _profile("a", VALUES["large"]), _profile("b", VALUES["small"])
        session.add_all([first, second])
        session.flush()  # not committed: the scan that stores a summary reads in its transaction
        assert dialect.large_value(session, ReferenceProfile.profiles, second.id) == VALUES["small"]
        assert dialect.large_value(session, ReferenceProfile.profiles, first.id) == VALUES["large"]


def test_a_missing_row_has_no_value(profiles_table: Engine) -> None:
    with Session(profiles_table) as session:
        assert dialect.large_value(session, ReferenceProfile.profiles, 12345) is None
