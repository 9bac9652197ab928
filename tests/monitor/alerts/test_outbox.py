"""Outbox claims: two dispatchers never take the same row; per-alert order holds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.outbox import CLAIM_LEASE, claim_due
from monitor.store import Notification
from tests.monitor.alerts.conftest import T0, failing, run_scan


def _three_alerts(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing("accuracy"), failing("row_count"), failing("latency_p99")])


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(
    sessions: sessionmaker[Session],
) -> None:
    _three_alerts(sessions)
    with sessions() as first:
        mine = claim_due(first, now=T0, limit=2)
        first.commit()
    with sessions() as second:
        theirs = claim_due(second, now=T0, limit=10)
        second.commit()
    assert len(mine) == 2 and len(theirs) == 1 and not set(mine) & set(theirs)
    with sessions() as third:
        assert claim_due(third, now=T0 + CLAIM_LEASE - timedelta(seconds=1)) == []
        assert sorted(claim_due(third, now=T0 + CLAIM_LEASE)) == sorted(mine + theirs)


def test_concurrent_claims_skip_rows_locked_by_another_dispatcher(
    sessions: sessionmaker[Session], backend: str
) -> None:
    """PostgreSQL: while the first claim is uncommitted, SKIP LOCKED hands out other rows.

    SQLite has one writer at a time: the second claim waits for the first to commit (busy
    timeout) and then its conditional UPDATE finds the rows taken; the sequential test above
    covers that outcome, so here SQLite commits the first claim before the second starts.
    """
    _three_alerts(sessions)
    first = sessions()
    mine = claim_due(first, now=T0, limit=1)
    if backend == "sqlite":
        first.commit()
    with sessions() as second:
        theirs = claim_due(second, now=T0, limit=10)
        second.commit()
    first.commit()
    first.close()
    assert len(mine) == 1 and len(theirs) == 2 and not set(mine) & set(theirs)


def test_later_rows_of_an_alert_wait_for_its_earlier_rows(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    run_scan(sessions, T0 + timedelta(hours=1), [failing(severity="critical")])
    with sessions() as session:
        kinds = [r.kind for r in session.query(Notification).order_by(Notification.id)]
        claimed = claim_due(session, now=T0 + timedelta(hours=2))
        session.commit()
    assert kinds == ["post", "update", "reply"]
    assert claimed == [1]
