"""Scan-driven transitions of sticky alerts (reference/alerting.md 3.9, scenarios 1-5)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge, resolve
from monitor.alerts.conditions import CheckSignal
from monitor.alerts.notify import ThreadEvent
from monitor.alerts.policy import AlertPolicy, Routing, SeverityRoute
from monitor.alerts.queries import alert_counts
from monitor.slack.render import reply_text
from monitor.store import Alert, AlertEvent, Notification
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan


def _alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def _outbox(sessions: sessionmaker[Session], alert_id: int) -> list[tuple[str, bool]]:
    with sessions() as session:
        rows = session.scalars(
            select(Notification).where(Notification.alert_id == alert_id).order_by(Notification.id)
        )
        return [(r.kind, r.broadcast) for r in rows]


def test_breach_shorter_than_raise_after_opens_no_alert(sessions: sessionmaker[Session]) -> None:
    policy = AlertPolicy(raise_after=2)
    assert run_scan(sessions, T0, [failing()], policy=policy) == []
    assert run_scan(sessions, T0 + HOUR, [passing()], policy=policy) == []
    assert _alerts(sessions) == []
    run_scan(sessions, T0 + 2 * HOUR, [failing()], policy=policy)
    raised = run_scan(sessions, T0 + 3 * HOUR, [failing()], policy=policy)
    assert [t.kind for t in raised] == ["raised"]


def test_rescan_of_the_same_window_does_not_count_twice(sessions: sessionmaker[Session]) -> None:
    policy = AlertPolicy(raise_after=2)
    run_scan(sessions, T0, [failing()], policy=policy)
    assert run_scan(sessions, T0, [failing()], policy=policy) == []
    assert _alerts(sessions) == []
    assert [t.kind for t in run_scan(sessions, T0 + HOUR, [failing()], policy=policy)] == ["raised"]


def test_changed_threshold_resets_the_debounce(sessions: sessionmaker[Session]) -> None:
    policy = AlertPolicy(raise_after=2)
    run_scan(sessions, T0, [failing(threshold=0.80)], policy=policy)
    assert run_scan(sessions, T0 + HOUR, [failing(threshold=0.82)], policy=policy) == []
    assert run_scan(sessions, T0 + 2 * HOUR, [failing(threshold=0.82)], policy=policy)


def test_insufficient_data_neither_raises_nor_clears(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()])
    unknown = CheckSignal("accuracy", None, "warning", None, 0.80)
    assert run_scan(sessions, T0 + HOUR, [unknown]) == []
    assert [a.state for a in _alerts(sessions)] == ["firing"]


def test_recovered_alert_stays_open_until_acknowledged(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()])
    kinds = [t.kind for t in run_scan(sessions, T0 + HOUR, [passing()])]
    assert kinds == ["recovered"]
    run_scan(sessions, T0 + 2 * HOUR, [passing()])
    [alert] = _alerts(sessions)
    assert (alert.state, alert.condition, alert.next_reminder_at) == ("recovered", "ok", None)
    with sessions() as session:
        counts = alert_counts(session=session, model="churn")
    assert (counts.open, counts.unacknowledged, counts.oldest_unacknowledged_since) == (1, 1, T0)


def test_clear_after_needs_consecutive_ok_windows(sessions: sessionmaker[Session]) -> None:
    policy = AlertPolicy(clear_after=2)
    run_scan(sessions, T0, [failing()], policy=policy)
    assert run_scan(sessions, T0 + HOUR, [passing()], policy=policy) == []
    assert run_scan(sessions, T0 + 2 * HOUR, [failing()], policy=policy) == []
    assert run_scan(sessions, T0 + 3 * HOUR, [passing()], policy=policy) == []
    assert [t.kind for t in run_scan(sessions, T0 + 4 * HOUR, [passing()], policy=policy)] == [
        "recovered"
    ]


def test_refire_after_recovery_reuses_the_alert_with_a_quiet_reply(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    run_scan(sessions, T0 + HOUR, [passing()])
    kinds = [t.kind for t in run_scan(sessions, T0 + 2 * HOUR, [failing()])]
    [alert] = _alerts(sessions)
    assert kinds == ["refired"]
    assert (alert.state, alert.occurrences) == ("firing", 2)
    rows = _outbox(sessions, alert.id)
    assert rows.count(("post", False)) == 1
    assert rows[-1] == ("reply", False)  # same severity: not an escalation


def test_acknowledging_a_recovered_alert_resolves_it_and_a_new_breach_opens_a_new_alert(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    run_scan(sessions, T0 + HOUR, [passing()])
    first = _alerts(sessions)[0].id
    with sessions() as session:
        done = acknowledge(session=session, alert_id=first, by="alice", now=T0 + 2 * HOUR)
        session.commit()
    assert (done.kind, done.to_state) == ("resolved", "resolved")
    run_scan(sessions, T0 + 3 * HOUR, [failing()])
    alerts = _alerts(sessions)
    assert [(a.id == first, a.state) for a in alerts] == [(True, "resolved"), (False, "firing")]
    assert _outbox(sessions, alerts[1].id)[0] == ("post", False)


def test_acknowledged_alert_resolves_when_condition_clears(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0, note="retraining")
        session.commit()
    assert [t.kind for t in run_scan(sessions, T0 + HOUR, [passing()])] == ["resolved"]
    [alert] = _alerts(sessions)
    assert (alert.resolve_reason, alert.acked_by, alert.ack_note) == (
        "recovered_after_ack",
        "alice",
        "retraining",
    )


def test_escalation_clears_the_acknowledgement_and_pings(sessions: sessionmaker[Session]) -> None:
    routing = Routing(severities={"critical": SeverityRoute("#oncall", "<!subteam^S1>")})
    run_scan(sessions, T0, [failing(severity="warning", value=0.83, threshold=0.85)])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0)
        session.commit()
    ladder = [
        failing(severity="warning", value=0.78, threshold=0.85),
        failing(severity="critical", value=0.78, threshold=0.80),
    ]
    kinds = [t.kind for t in run_scan(sessions, T0 + HOUR, ladder, routing=routing)]
    [alert] = _alerts(sessions)
    assert kinds == ["escalated"]
    assert (alert.state, alert.severity, alert.acked_by) == ("firing", "critical", None)
    assert alert.next_reminder_at == T0 + HOUR + AlertPolicy().remind_every["critical"]
    with sessions() as session:
        reply = session.scalars(
            select(Notification).where(Notification.kind == "reply").order_by(Notification.id)
        ).all()[-1]
    text = reply_text(ThreadEvent(reply.event, reply.data))
    assert reply.broadcast and text.startswith("<!subteam^S1>")
    assert "acknowledgement by alice was cleared" in text


def test_ladder_is_one_check_whose_severity_is_the_worst_failing_rung(
    sessions: sessionmaker[Session],
) -> None:
    ladder = [
        failing(severity="warning", value=0.78, threshold=0.85),
        failing(severity="critical", value=0.78, threshold=0.80),
    ]
    run_scan(sessions, T0, ladder)
    [alert] = _alerts(sessions)
    assert (alert.check_id, alert.severity, alert.threshold) == ("accuracy", "critical", 0.80)


def test_segments_are_separate_alerts_for_a_check_alerting_per_segment(
    sessions: sessionmaker[Session],
) -> None:
    each = AlertPolicy(segment_alerts=frozenset({"accuracy"}))
    run_scan(sessions, T0, [failing(segment="eu"), failing(segment="us"), passing()], policy=each)
    assert sorted(a.segment for a in _alerts(sessions)) == ["eu", "us"]


def test_manual_resolve_of_a_failing_check_reopens_on_the_next_breach(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    with sessions() as session:
        resolve(session=session, alert_id=1, by="bob", now=T0 + HOUR)
        session.commit()
    run_scan(sessions, T0 + 2 * HOUR, [failing()])
    assert [(a.state, a.resolved_by) for a in _alerts(sessions)] == [
        ("resolved", "bob"),
        ("firing", None),
    ]


def test_every_transition_writes_an_event_with_actor(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()])
    run_scan(sessions, T0 + HOUR, [passing()])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + 2 * HOUR)
        session.commit()
        events = session.scalars(select(AlertEvent).order_by(AlertEvent.id)).all()
    assert [(e.kind, e.from_state, e.to_state, e.actor) for e in events] == [
        ("raised", None, "firing", "scan"),
        ("recovered", "firing", "recovered", "scan"),
        ("resolved", "recovered", "resolved", "alice"),
    ]
    assert events[0].window_end == T0


def test_scans_that_change_nothing_leave_the_alert_version_alone(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    run_scan(sessions, T0 + HOUR, [passing()])
    version = _alerts(sessions)[0].version
    run_scan(sessions, T0 + 2 * HOUR, [passing()])
    run_scan(sessions, T0 + 3 * HOUR, [CheckSignal("accuracy", None, "warning")])
    assert _alerts(sessions)[0].version == version
