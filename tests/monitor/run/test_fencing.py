"""A replica that lost its scan lease cannot store: the lease's version is a fencing token.

The stale holder (paused by a GC, SIGSTOP or a slow disk past its lease) finds out only when it
writes; the check runs in the transaction that stores the scan, so either its scan commits
before the takeover or its write is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import parse_config
from monitor.run import leases
from monitor.run.service import Service
from monitor.sources import SourceEngines
from monitor.store import Lease, Scan
from tests.monitor.scancore.conftest import T0, log_frame, model_dict, write

LATER = T0 + timedelta(days=3)


@pytest.fixture
def service_for(
    db_url: str, engine: Engine, sessions: sessionmaker[Session]
) -> Iterator[Callable[[], Service]]:
    """Replicas of one service whose model reads its logs from the state DB itself."""
    write(engine, log_frame(T0, 24 * 4), "preds")
    tree = {"state_db": db_url, "sources": {"logs": {"url": db_url}}, "models": [model_dict()]}
    config = parse_config(tree, file="test.yaml")
    made: list[Service] = []

    def build() -> Service:
        engines = SourceEngines(config.sources)
        made.append(Service(config=config, sessions=sessions, engines=engines))
        return made[-1]

    yield build
    for service in made:
        service.engines.dispose()


def _take_over(sessions: sessionmaker[Session], name: str, holder: str) -> None:
    """What another replica does once our lease looks expired to it."""
    with sessions() as session:
        session.execute(
            update(Lease)
            .where(Lease.name == name)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    assert leases.acquire(sessions, name, holder=holder, ttl=timedelta(minutes=5))


def _stored(sessions: sessionmaker[Session]) -> list[datetime]:
    with sessions() as session:
        return list(session.scalars(select(Scan.window_end).order_by(Scan.window_end)))


def test_a_holder_whose_lease_was_taken_over_mid_scan_cannot_store(
    service_for: Callable[[], Service],
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stale, other = service_for(), service_for()
    from monitor.scans import service as scans

    real_run = scans.run_scan

    def paused_past_the_lease(*args: Any, **kwargs: Any) -> Any:
        # Stopped at the start of the scan for longer than the lease; another replica took
        # over. (Before the scan's first write: on SQLite the takeover would otherwise wait
        # for the scan to commit, which is the safe order.)
        _take_over(sessions, "scan:churn", other.holder)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(scans, "run_scan", paused_past_the_lease)
    monkeypatch.setattr("monitor.run.service.datetime", _Frozen)
    with caplog.at_level(logging.INFO, logger="monitor.run"):
        stale.scan_model("churn")
    assert _stored(sessions) == []
    [refused] = [r for r in caplog.records if r.getMessage() == "scan not stored"]
    assert refused.levelno == logging.WARNING
    assert "lease" in refused.__dict__["error"] and refused.__dict__["status"] == "fenced"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with sessions() as session:  # the new holder's lease was left alone
        assert session.scalars(select(Lease.holder)).all() == [other.holder]


def test_the_holder_that_took_over_stores_and_the_stale_one_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    ttl = timedelta(minutes=5)
    stale = leases.acquire(sessions, "scan:churn", holder="a", ttl=ttl)
    assert stale is not None
    _take_over(sessions, "scan:churn", "b")
    with sessions() as session:
        current = session.scalars(select(Lease.version)).one()
        fresh = leases.Fence("scan:churn", "b", current)
        leases.check(session, fresh)  # the current holder passes
        with pytest.raises(leases.LeaseLostError, match=r"scan:churn.*taken over"):
            leases.check(session, leases.Fence("scan:churn", "a", stale))
        session.rollback()
    assert current > stale


def test_a_released_and_retaken_lease_still_refuses_the_old_holder(
    sessions: sessionmaker[Session],
) -> None:
    ttl = timedelta(minutes=5)
    token = leases.acquire(sessions, "scan:churn", holder="a", ttl=ttl)
    assert token is not None
    with sessions() as session:  # a took too long; b took over, finished and released
        session.execute(update(Lease).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    assert leases.acquire(sessions, "scan:churn", holder="b", ttl=ttl)
    leases.release(sessions, "scan:churn", holder="b")
    assert leases.acquire(sessions, "scan:churn", holder="c", ttl=ttl)
    with sessions() as session, pytest.raises(leases.LeaseLostError):
        leases.check(session, leases.Fence("scan:churn", "a", token))


class _Frozen(datetime):
    """The service's clock just after the first window of the logs: one window is due."""

    @classmethod
    def now(cls, tz: Any = None) -> _Frozen:
        moment = LATER + timedelta(minutes=5)
        return cls.fromtimestamp(moment.timestamp(), tz)
