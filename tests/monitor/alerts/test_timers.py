"""Snoozes and silences (scenario 9 and the silence rules of DESIGN.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge, silence_model, snooze
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.alerts.tick import tick
from monitor.alerts.timers import send_due_reminders
from monitor.slack.transport import SlackNotifier
from monitor.store import Alert, Notification, Silence
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan


def _posts(fake: FakeSlack) -> list[dict[str, object]]:
    return [c.params for c in fake.calls_to("chat.postMessage")]


def test_snoozed_firing_alert_is_quiet_until_expiry_then_pings(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing(severity="critical")])
    tick(sessions, now=T0, notifier=slack)
    with sessions() as session:
        snooze(session=session, alert_id=1, by="alice", now=T0, duration=HOUR)
        session.commit()
    tick(sessions, now=T0 + timedelta(minutes=1), notifier=slack)
    run_scan(sessions, T0 + timedelta(minutes=30), [failing(severity="critical")])
    tick(sessions, now=T0 + timedelta(minutes=59), notifier=slack)
    assert len(_posts(fake_slack)) == 1  # only the parent: the snooze reply was muted
    [edit] = fake_slack.calls_to("chat.update")
    assert "snoozed until" in str(edit.params["blocks"])
    tick(sessions, now=T0 + HOUR, notifier=slack)
    ping = _posts(fake_slack)[-1]
    assert ping["reply_broadcast"] is False and "Snooze ended" in str(ping["text"])
    with sessions() as session:
        alert = session.get_one(Alert, 1)
    assert (alert.snoozed_until, alert.next_reminder_at) == (None, T0 + 5 * HOUR)


def test_snooze_ending_on_an_acknowledged_alert_only_edits(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing()])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0)
        snooze(session=session, alert_id=1, by="alice", now=T0, duration=HOUR)
        session.commit()
    tick(sessions, now=T0, notifier=slack)
    posts = len(_posts(fake_slack))
    tick(sessions, now=T0 + HOUR, notifier=slack)
    assert len(_posts(fake_slack)) == posts
    assert "snoozed" not in str(fake_slack.calls_to("chat.update")[-1].params["blocks"])


def test_silenced_model_opens_alerts_but_posts_only_after_the_silence(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    with sessions() as session:
        silence_model(
            session=session, model="churn", by="ops", now=T0, duration=2 * HOUR, reason="retraining"
        )
        session.commit()
    run_scan(sessions, T0, [failing("accuracy"), failing("latency_p99")])
    run_scan(sessions, T0 + HOUR, [passing("accuracy"), failing("latency_p99")])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)  # -> resolved
        session.commit()
    run_scan(sessions, T0, [failing("row_count")], model="fraud")
    tick(sessions, now=T0 + HOUR, notifier=slack)
    assert [p["text"] for p in _posts(fake_slack)] == [
        "[WARNING] fraud: row_count 0.74 < 0.80 (firing)"
    ]
    with sessions() as session:
        states = dict(session.execute(select(Alert.check_id, Alert.state)).all())
    assert states == {"accuracy": "resolved", "latency_p99": "firing", "row_count": "firing"}
    tick(sessions, now=T0 + 2 * HOUR, notifier=slack)
    churn = [p for p in _posts(fake_slack) if "churn" in str(p["text"])]
    assert [p["text"] for p in churn] == ["[WARNING] churn: latency_p99 0.74 < 0.80 (firing)"]
    with sessions() as session:
        pending = session.scalars(select(Notification).where(Notification.status == "pending"))
        assert list(pending) == []
        assert session.scalars(select(Silence.ended_at)).one() == T0 + 2 * HOUR


def test_silence_ending_pings_alerts_that_were_already_posted(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing()])
    tick(sessions, now=T0, notifier=slack)
    with sessions() as session:
        silence_model(session=session, model="churn", by="ops", now=T0, duration=HOUR, reason="")
        session.commit()
    tick(sessions, now=T0 + 30 * HOUR / 60, notifier=slack)
    assert len(_posts(fake_slack)) == 1
    tick(sessions, now=T0 + HOUR, notifier=slack)
    ping = _posts(fake_slack)[-1]
    assert ping["reply_broadcast"] is False and "Silence ended" in str(ping["text"])


def test_reminders_stay_in_the_thread_and_back_off_until_an_escalation(
    sessions: sessionmaker[Session],
) -> None:
    policy = AlertPolicy(remind_every={"warning": HOUR, "critical": HOUR})
    run_scan(sessions, T0, [failing()], policy=policy)
    due = []
    moment = T0
    with sessions() as session:
        for _ in range(60):
            moment += HOUR / 2
            if send_due_reminders(session=session, now=moment, routing=Routing()):
                due.append((moment - T0) / HOUR)
        session.commit()
        rows = session.scalars(select(Notification).where(Notification.kind == "reply")).all()
    # Intervals 1h, 2h, 4h, 8h, then capped at 8h.
    assert due == [1, 3, 7, 15, 23]
    assert {r.broadcast for r in rows} == {False}
    escalated = run_scan(sessions, moment, [failing(severity="critical")], policy=policy)
    assert [t.kind for t in escalated] == ["escalated"]
    with sessions() as session:
        alert = session.scalars(select(Alert)).one()
        last = session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert (alert.reminders_sent, alert.next_reminder_at) == (0, moment + HOUR)
    assert last is not None and last.broadcast is True
