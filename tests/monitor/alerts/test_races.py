"""A scan's breach racing an acknowledgement of a recovered alert: the re-fire is never lost.

After the race exactly one of: the alert fires again (the scan won, the ack is refused and
says so), or a new alert is open (the ack won and resolved the old one). The deterministic
tests force each interleaving with a hook just before the loser's compare-and-set; the stress
test races real threads and judges only the end state, so its verdict does not depend on
timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts import actions
from monitor.alerts.actions import acknowledge
from monitor.alerts.conditions import ConditionChange, Observation
from monitor.alerts.errors import AlertConflictError, AlertStateError
from monitor.alerts.lifecycle import apply_change
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.store import Alert, AlertEvent
from monitor.store.rows import AlertRow, Reader
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan

BREACH_AT = T0 + 2 * HOUR


def _recovered_alert(sessions: sessionmaker[Session], model: str = "churn") -> int:
    run_scan(sessions, T0, [failing()], model=model)
    run_scan(sessions, T0 + HOUR, [passing()], model=model)
    with sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.model == model)).one()
        assert alert.state == "recovered"
        return alert.id


def _before_alert_update(session: Session, hook: Callable[[], None]) -> list[bool]:
    """Run ``hook`` once, just before ``session`` sends its first UPDATE of the alert table."""
    fired: list[bool] = []

    def listener(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE ALERT ") and not fired:
            fired.append(True)
            hook()

    event.listen(session.connection(), "before_cursor_execute", listener)
    return fired


def _outcome(
    sessions: sessionmaker[Session], model: str, first: int, ack_saw: list[str] | None = None
) -> str:
    """What the race left for ``model``: ``refired``, ``new alert``, or what went wrong.

    ``ack_saw``: the states the acknowledgement read, in order (when it was recorded).
    """
    with sessions() as session:
        alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.model == model))}
        kinds = list(
            session.scalars(
                select(AlertEvent.kind).where(AlertEvent.alert_id == first).order_by(AlertEvent.id)
            )
        )
    old = alerts.pop(first)
    newer_open = [a for a in alerts.values() if a.is_open]
    if old.state == "firing" and not newer_open:
        return "refired"
    if old.state == "resolved" and [a.state for a in newer_open] == ["firing"]:
        return "new alert"
    sequential = ack_saw is not None and ack_saw[:1] == ["firing"]
    if old.state == "acknowledged" and sequential and kinds[-2:] == ["refired", "acknowledged"]:
        # The ack first read the alert after the re-fire had committed: a person acknowledged
        # a firing alert (no race); the re-fire is in the trail and was announced.
        return "acknowledged after the re-fire"
    return f"lost: alert {first} {old.state}, events {kinds}, others {list(alerts.values())}"


def _breach() -> ConditionChange:
    observation = Observation("accuracy", "", "warning", 0.74, 0.80, "accuracy 0.74 < 0.80")
    return ConditionChange("accuracy", "", "ok", "warning", observation)


def test_ack_committing_between_a_scans_read_and_its_write_leaves_a_new_alert_open(
    sessions: sessionmaker[Session],
) -> None:
    """The scan read the alert as recovered; the ack resolved it before the scan's write."""
    first = _recovered_alert(sessions)

    def alice_acks() -> None:
        with sessions() as alice:
            acknowledge(session=alice, alert_id=first, by="alice", now=BREACH_AT)
            alice.commit()

    with sessions() as scan:
        fired = _before_alert_update(scan, alice_acks)
        transition = apply_change(
            session=scan,
            model="churn",
            change=_breach(),
            policy=AlertPolicy(),
            routing=Routing(),
            now=BREACH_AT,
            window_end=BREACH_AT,
        )
        scan.commit()
    assert fired
    assert transition is not None and transition.kind == "raised"
    assert transition.alert_id != first
    assert _outcome(sessions, "churn", first) == "new alert"


def test_scan_committing_between_an_acks_read_and_its_write_refuses_the_ack(
    sessions: sessionmaker[Session],
) -> None:
    """Alice read the alert as recovered; the scan re-fired it before her write."""
    first = _recovered_alert(sessions)
    with sessions() as alice:
        fired = _before_alert_update(alice, lambda: run_scan(sessions, BREACH_AT, [failing()]))
        with pytest.raises(AlertConflictError, match="re-fired") as refused:
            acknowledge(session=alice, alert_id=first, by="alice", now=BREACH_AT)
        alice.rollback()
    assert fired
    assert "occurrence 2" in str(refused.value)
    assert _outcome(sessions, "churn", first) == "refired"


def _race_once(
    sessions: sessionmaker[Session], model: str, at: datetime, ack_saw: list[str]
) -> str:
    first = _recovered_alert(sessions, model)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    ack_saw.clear()

    def scan() -> None:
        barrier.wait()
        run_scan(sessions, at, [failing()], model=model)

    def ack() -> None:
        barrier.wait()
        with sessions() as session:
            try:
                acknowledge(session=session, alert_id=first, by="alice", now=at)
                session.commit()
            except AlertStateError:  # refused: the alert re-fired under the click
                session.rollback()

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # reported below, never swallowed
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(w)) for w in (scan, ack)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a racer did not finish"
    return _outcome(sessions, model, first, list(ack_saw))


def _recording_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the alert states the acknowledgement reads (its plan and any re-plan)."""
    saw: list[str] = []
    real = actions.read

    def read(session: Reader, alert_id: int) -> AlertRow:
        alert = real(session, alert_id)
        saw.append(alert.state)
        return alert

    monkeypatch.setattr(actions, "read", read)
    return saw


def test_a_hundred_races_of_a_breaching_scan_and_an_ack_lose_no_refire(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    ack_saw = _recording_loads(monkeypatch)
    outcomes = [_race_once(sessions, f"m{i}", BREACH_AT, ack_saw) for i in range(100)]
    lost = [o for o in outcomes if o.startswith("lost")]
    assert lost == []
    assert len(outcomes) == 100
