"""The one ``tick(now)`` every caller uses: the scheduler, ``monitor scan`` and the demo."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.run.tick import tick
from monitor.slack.console import ConsoleNotifier
from monitor.store import Alert, Notification, Scan
from tests.monitor.run.test_units import T0, add_scan, config


def _seed(sessions: sessionmaker[Session]) -> None:
    """An old scan past retention (180 days) and a latest one two hours ago: stale data."""
    with sessions() as session:
        add_scan(session, T0 - timedelta(days=200))
        add_scan(session, T0 - timedelta(hours=2))


def _scans(sessions: sessionmaker[Session]) -> list[Scan]:
    with sessions() as session:
        return list(session.scalars(select(Scan).order_by(Scan.window_end)))


def test_one_tick_judges_staleness_delivers_and_prunes_old_scans(
    sessions: sessionmaker[Session],
) -> None:
    _seed(sessions)
    out = io.StringIO()
    done = tick(sessions, config=config(), now=T0, notifier=ConsoleNotifier(out))
    with sessions() as session:
        [alert] = session.scalars(select(Alert)).all()
        statuses = [n.status for n in session.scalars(select(Notification))]
    assert (alert.check_id, alert.state) == ("stale", "firing")
    assert statuses == ["sent"] and done.alerts.delivery.sent == 1
    assert "m: stale" in out.getvalue()
    assert done.pruned_scans == 1
    assert [s.window_end for s in _scans(sessions)] == [T0 - timedelta(hours=2)]


def test_monitor_scans_tick_keeps_the_old_windows_a_backfill_stored(
    sessions: sessionmaker[Session],
) -> None:
    _seed(sessions)
    with sessions() as session:
        done = tick(
            session,
            config=config(),
            now=T0,
            notifier=ConsoleNotifier(io.StringIO()),
            prune_old_scans=False,
        )
    assert done.pruned_scans == 0 and len(_scans(sessions)) == 2
    assert done.alerts.delivery.sent == 1  # the stale alert, judged and posted all the same


def test_models_left_out_of_judgement_are_not_called_stale(
    sessions: sessionmaker[Session],
) -> None:
    _seed(sessions)
    done = tick(
        sessions, config=config(), now=T0, notifier=ConsoleNotifier(io.StringIO()), judged=[]
    )
    with sessions() as session:
        assert session.scalars(select(Alert)).all() == []
    assert done.alerts.delivery.sent == 0 and done.pruned_scans == 1
