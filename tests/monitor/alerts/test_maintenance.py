"""Maintenance windows (issue 15 item 6): planned ahead, scans still move the alerts, nothing
is posted while it is in force, one message per open alert when it ends; cancel ends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.errors import InvalidActionError, MaintenanceNotFoundError
from monitor.alerts.maintenance import (
    active_maintenance,
    cancel_maintenance,
    list_maintenance,
    plan_maintenance,
)
from monitor.alerts.queries import maintenance_json
from monitor.alerts.tick import tick
from monitor.slack.transport import SlackNotifier
from monitor.store import Alert
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan


def _plan(sessions: sessionmaker[Session], start: int, end: int) -> int:
    with sessions() as session:
        window = plan_maintenance(
            session=session,
            model="churn",
            starts_at=T0 + start * HOUR,
            ends_at=T0 + end * HOUR,
            by="ops",
            reason="retraining",
            now=T0,
        )
        session.commit()
        return window.id


def _day(sessions: sessionmaker[Session], slack: SlackNotifier, hours: range) -> None:
    """accuracy breaks at hour 2 and stays broken; drift:x fails at hours 3 and 5 only."""
    for i in hours:
        accuracy = failing() if i >= 2 else passing()
        drift = failing("drift:x") if i in (3, 5) else passing("drift:x")
        run_scan(sessions, T0 + i * HOUR, [accuracy, drift])
        tick(sessions, now=T0 + i * HOUR, notifier=slack)


def _messages(fake: FakeSlack) -> list[str]:
    return [str(c.params["text"]) for c in fake.calls_to("chat.postMessage")]


def test_nothing_is_posted_during_the_window_and_open_alerts_once_at_its_end(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    _plan(sessions, 1, 8)
    _day(sessions, slack, range(8))
    assert _messages(fake_slack) == []
    with sessions() as session:
        alerts = {a.check_id: a for a in session.scalars(select(Alert))}
        assert active_maintenance(session=session, model="churn", now=T0 + 2 * HOUR)
    assert alerts["accuracy"].state == "firing"  # the scans moved the alerts meanwhile
    assert alerts["drift:x"].occurrences == 2
    tick(sessions, now=T0 + 8 * HOUR, notifier=slack)
    # One parent per alert still open (each in its current state); nothing else.
    messages = _messages(fake_slack)
    assert len(messages) == 2
    assert any("accuracy" in m and "firing" in m for m in messages)
    assert any("drift:x" in m and "recovered" in m for m in messages)
    with sessions() as session:
        assert active_maintenance(session=session, model="churn", now=T0 + 8 * HOUR) is None


def test_without_a_window_every_change_is_posted(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    _day(sessions, slack, range(8))
    # Two parents; drift:x recovered, re-fired, recovered.
    assert len(_messages(fake_slack)) == 5


def test_cancel_ends_the_window_and_the_next_tick_summarises(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    window_id = _plan(sessions, 0, 24)
    _day(sessions, slack, range(3))
    with sessions() as session:
        cancelled = cancel_maintenance(
            session=session, window_id=window_id, by="ana", now=T0 + 3 * HOUR
        )
        session.commit()
        shown = maintenance_json(cancelled, now=T0 + 3 * HOUR)
        assert list_maintenance(session=session, now=T0 + 3 * HOUR) == []
        assert len(list_maintenance(session=session, now=T0 + 3 * HOUR, past=True)) == 1
    # the planned times stay; the cancel is recorded beside them (audit of issue 15)
    assert (shown.starts_at, shown.ends_at, shown.cancelled_at, shown.active) == (
        "2026-11-24T09:00:00Z",
        "2026-11-25T09:00:00Z",
        "2026-11-24T12:00:00Z",
        False,
    )
    assert shown.cancelled_by == "ana"
    tick(sessions, now=T0 + 3 * HOUR, notifier=slack)
    [message] = _messages(fake_slack)
    assert "accuracy" in message


def test_a_cancelled_window_holds_nothing_after_its_cancel_time(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    """The window keeps its planned end (24 h), yet holds nothing after the cancel (3 h): an
    alert raised later posts at once, as without a window, and nothing reports it in force."""
    window_id = _plan(sessions, 0, 24)
    _day(sessions, slack, range(3))
    with sessions() as session:
        cancel_maintenance(session=session, window_id=window_id, by="ana", now=T0 + 3 * HOUR)
        session.commit()
    _day(sessions, slack, range(3, 4))  # drift:x fails at hour 3: posted now, not held to 24 h
    messages = _messages(fake_slack)
    assert len(messages) == 2 and "accuracy" in messages[0] and "drift:x" in messages[1]
    with sessions() as session:
        assert active_maintenance(session=session, model="churn", now=T0 + 4 * HOUR) is None
        [ended] = list_maintenance(session=session, now=T0 + 4 * HOUR, past=True)
        assert (ended.starts_at, ended.ends_at) == (T0, T0 + 24 * HOUR)
        assert ended.cancelled_at == T0 + 3 * HOUR


def test_a_planned_window_cancelled_before_it_starts_never_holds_anything(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    window_id = _plan(sessions, 5, 9)
    with sessions() as session:
        cancel_maintenance(session=session, window_id=window_id, by="ana", now=T0 + HOUR)
        session.commit()
    _day(sessions, slack, range(7))
    assert len(_messages(fake_slack)) == 5  # as without a window
    with sessions() as session:
        [window] = list_maintenance(session=session, now=T0 + 7 * HOUR, past=True)
        shown = maintenance_json(window, now=T0 + 6 * HOUR)  # inside the planned 5..9 h
    assert (shown.starts_at, shown.ends_at, shown.cancelled_at, shown.active) == (
        "2026-11-24T14:00:00Z",
        "2026-11-24T18:00:00Z",
        "2026-11-24T10:00:00Z",
        False,
    )


def test_bad_windows_are_refused_naming_the_model_or_window(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        with pytest.raises(InvalidActionError, match=r"model 'churn': .* must end after"):
            plan_maintenance(
                session=session,
                model="churn",
                starts_at=T0 + HOUR,
                ends_at=T0,
                by="ops",
                reason="",
                now=T0,
            )
        with pytest.raises(InvalidActionError, match="ends in the past"):
            plan_maintenance(
                session=session,
                model="churn",
                starts_at=T0 - 2 * HOUR,
                ends_at=T0 - timedelta(minutes=1),
                by="ops",
                reason="",
                now=T0,
            )
        with pytest.raises(MaintenanceNotFoundError, match="maintenance window 99 does not"):
            cancel_maintenance(session=session, window_id=99, by="ana", now=T0)
