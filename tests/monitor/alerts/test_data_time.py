"""Alert time is data time: a backfill run weeks later dates alerts by the windows they are about
(DESIGN "Data time"); the wall clock of each write is kept as ``recorded_at``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge
from monitor.alerts.queries import alert_json, event_json
from monitor.slack.render import fields
from monitor.status.history import check_history
from monitor.store import Alert, AlertEvent
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan

# The backfill runs thirty days after the windows it scans.
LATER = T0 + timedelta(days=30)


def _backfill(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [passing()], now=LATER)
    run_scan(sessions, T0 + HOUR, [failing()], now=LATER + timedelta(seconds=1))
    run_scan(sessions, T0 + 2 * HOUR, [failing(value=0.6)], now=LATER + timedelta(seconds=2))
    run_scan(sessions, T0 + 3 * HOUR, [passing()], now=LATER + timedelta(seconds=3))


def test_scan_driven_times_are_the_window_ends_and_the_wall_clock_is_recorded(
    sessions: sessionmaker[Session],
) -> None:
    _backfill(sessions)
    with sessions() as session:
        [alert] = session.scalars(select(Alert))
        events = list(session.scalars(select(AlertEvent).order_by(AlertEvent.id)))
    assert alert.raised_at == T0 + HOUR
    assert alert.recorded_at == LATER + timedelta(seconds=1)
    assert alert.last_breach_at == T0 + 2 * HOUR
    assert (alert.state, alert.recovered_at) == ("recovered", T0 + 3 * HOUR)
    assert [(e.kind, e.at, e.recorded_at) for e in events] == [
        ("raised", T0 + HOUR, LATER + timedelta(seconds=1)),
        ("recovered", T0 + 3 * HOUR, LATER + timedelta(seconds=3)),
    ]
    # Reminders run on the wall clock, not in the past.
    assert alert.next_reminder_at is None
    shown = alert_json(alert)
    assert (shown.raised_at, shown.recorded_at) == ("2026-11-24T10:00:00Z", "2026-12-24T09:00:01Z")
    assert event_json(events[1]).at == "2026-11-24T12:00:00Z"


def test_reminder_timer_of_a_backfilled_alert_counts_from_the_wall_clock(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()], now=LATER)
    with sessions() as session:
        [alert] = session.scalars(select(Alert))
    assert alert.raised_at == T0
    assert alert.next_reminder_at is not None and alert.next_reminder_at > LATER


def test_human_actions_are_dated_by_the_wall_clock(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()], now=LATER)
    with sessions() as session:
        alert_id = session.scalars(select(Alert.id)).one()
        acknowledge(session=session, alert_id=alert_id, by="ana", now=LATER + HOUR)
        session.commit()
        ack = session.scalars(select(AlertEvent).where(AlertEvent.kind == "acknowledged")).one()
    assert (ack.at, ack.recorded_at) == (LATER + HOUR, LATER + HOUR)


def test_slack_since_and_chart_shading_use_the_window_ends(sessions: sessionmaker[Session]) -> None:
    _backfill(sessions)
    with sessions() as session:
        [alert] = session.scalars(select(Alert))
        history = check_history(session=session, model="churn", check_id="accuracy")
    assert dict(fields(alert))["Since"] == "2026-11-24 10:00 UTC"
    [period] = history.alerts
    assert (period.from_, period.to) == ("2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")
