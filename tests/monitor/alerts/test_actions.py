"""Human actions: acknowledge, unacknowledge, snooze, resolve, check removal, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import (
    acknowledge,
    resolve,
    resolve_removed_checks,
    snooze,
    unacknowledge,
)
from monitor.alerts.errors import (
    AlertConflictError,
    AlertNotFoundError,
    AlertStateError,
    InvalidActionError,
)
from monitor.store import Alert, AlertCondition
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan
from tests.waiting import PATIENCE


def _alert(sessions: sessionmaker[Session], alert_id: int = 1) -> Alert:
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert


def test_acknowledge_stops_reminders_and_keeps_who_when_note(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    assert _alert(sessions).next_reminder_at is not None
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR, note="on it")
        session.commit()
    alert = _alert(sessions)
    assert (alert.state, alert.acked_by, alert.acked_at, alert.ack_note) == (
        "acknowledged",
        "alice",
        T0 + HOUR,
        "on it",
    )
    assert alert.next_reminder_at is None


def test_unacknowledge_returns_a_failing_alert_to_firing_with_reminders(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0)
        session.commit()
    with sessions() as session:
        unacknowledge(session=session, alert_id=1, by="bob", now=T0 + HOUR)
        session.commit()
    alert = _alert(sessions, 1)
    assert (alert.state, alert.acked_by) == ("firing", None)
    assert alert.next_reminder_at == T0 + HOUR + timedelta(hours=24)


def test_unacknowledge_of_an_alert_whose_condition_cleared_gives_recovered(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0)
        # Scans resolve an acknowledged alert when its condition clears, so this state is
        # only reachable by editing the row; DESIGN.md still defines unack on it.
        session.get_one(Alert, 1).condition = "ok"
        session.commit()
    with sessions() as session:
        unacknowledge(session=session, alert_id=1, by="bob", now=T0 + HOUR)
        session.commit()
    alert = _alert(sessions)
    assert (alert.state, alert.next_reminder_at) == ("recovered", None)


@pytest.mark.parametrize("state_action", ["ack", "resolve"])
def test_actions_on_a_resolved_alert_say_who_resolved_it(
    sessions: sessionmaker[Session], state_action: str
) -> None:
    run_scan(sessions, T0, [failing()])
    with sessions() as session:
        resolve(session=session, alert_id=1, by="carol", now=T0)
        session.commit()
    action = acknowledge if state_action == "ack" else resolve
    with sessions() as session, pytest.raises(AlertStateError, match="resolved by carol"):
        action(session=session, alert_id=1, by="dave", now=T0 + HOUR)


def test_unknown_alert_and_bad_snooze_are_clear_errors(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()])
    with sessions() as session:
        with pytest.raises(AlertNotFoundError, match="alert 99 does not exist"):
            acknowledge(session=session, alert_id=99, by="alice", now=T0)
        with pytest.raises(InvalidActionError, match="at most 7 days"):
            snooze(session=session, alert_id=1, by="alice", now=T0, duration=timedelta(days=8))
        with pytest.raises(InvalidActionError, match="must not be empty"):
            acknowledge(session=session, alert_id=1, by=" ", now=T0)


def test_acknowledge_that_loses_the_compare_and_set_is_told_who_won(
    sessions: sessionmaker[Session],
) -> None:
    """Bob reads version 1; Alice acknowledges and commits before Bob's UPDATE runs."""
    run_scan(sessions, T0, [failing()])
    bob = sessions()
    fired = []

    def alice_first(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE ALERT") and not fired:
            fired.append(True)
            with sessions() as alice:
                acknowledge(session=alice, alert_id=1, by="alice", now=T0 + HOUR)
                alice.commit()

    connection = bob.connection()
    event.listen(connection, "before_cursor_execute", alice_first)
    with pytest.raises(AlertConflictError, match="already acknowledged by alice"):
        acknowledge(session=bob, alert_id=1, by="bob", now=T0 + HOUR)
    bob.rollback()
    bob.close()
    assert fired and _alert(sessions).acked_by == "alice"


def test_two_concurrent_acknowledgements_one_wins(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()])
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def click(user: str) -> None:
        with sessions() as session:
            barrier.wait()
            try:
                acknowledge(session=session, alert_id=1, by=user, now=T0 + HOUR)
                session.commit()
                outcomes[user] = "won"
            except AlertStateError as exc:
                session.rollback()
                outcomes[user] = str(exc)

    threads = [threading.Thread(target=click, args=(u,)) for u in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=PATIENCE)
    winner = _alert(sessions).acked_by
    loser = "bob" if winner == "alice" else "alice"
    assert outcomes[winner] == "won"
    assert f"already acknowledged by {winner}" in outcomes[loser]


def test_snooze_of_a_closed_alert_is_refused(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()])
    run_scan(sessions, T0 + HOUR, [passing()])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)
        session.commit()
    with sessions() as session, pytest.raises(AlertStateError, match="resolved"):
        snooze(session=session, alert_id=1, by="alice", now=T0 + HOUR, duration=HOUR)


def test_alerts_of_checks_removed_from_config_resolve_as_check_removed(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing("accuracy"), failing("drift:age")])
    run_scan(sessions, T0, [failing("row_count")], model="retired")
    with sessions() as session:
        done = resolve_removed_checks(
            session=session, configured={"churn": {"accuracy"}}, now=T0 + HOUR
        )
        session.commit()
        remaining = session.scalars(select(AlertCondition.check_id)).all()
    assert sorted((t.model, t.check_id, t.reason) for t in done) == [
        ("churn", "drift:age", "check_removed"),
        ("retired", "row_count", "check_removed"),
    ]
    assert _alert(sessions, 1).state == "firing"
    assert remaining == ["accuracy"]
