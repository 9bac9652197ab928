"""Only an escalation pages again (issue 15 items 5 and 6): reminders stay in the thread
without a mention; warning -> critical, an unacknowledged critical past ``escalate_after``
and an acknowledgement past ``ack_timeout`` go to the channel with the mention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge
from monitor.alerts.policy import AlertPolicy, Routing, SeverityRoute
from monitor.alerts.tick import tick
from monitor.slack.transport import SlackNotifier
from monitor.store import Alert, AlertEvent
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan

ONCALL = "<!subteam^S1>"
ROUTING = Routing(
    severities={
        "critical": SeverityRoute(mention=ONCALL),
        "warning": SeverityRoute(mention="<!subteam^S2>"),
    }
)


def _replies(fake: FakeSlack) -> list[tuple[str, bool]]:
    return [
        (str(c.params["text"]), str(c.params["reply_broadcast"]).lower() == "true")
        for c in fake.calls_to("chat.postMessage")
        if "thread_ts" in c.params
    ]


def test_reminders_stay_in_the_thread_without_a_mention(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    policy = AlertPolicy(remind_every={"critical": HOUR, "warning": HOUR})
    run_scan(sessions, T0, [failing(severity="critical")], policy=policy, routing=ROUTING)
    for hours in range(1, 16):
        tick(sessions, now=T0 + hours * HOUR, notifier=slack, routing=ROUTING)
    replies = _replies(fake_slack)
    # Back-off: 1h, 2h, 4h, 8h, capped at 8h -> reminders at 1, 3, 7, 15 h.
    assert len(replies) == 4
    assert all(not broadcast and ONCALL not in text for text, broadcast in replies)


def test_only_a_worse_severity_is_broadcast_with_the_mention(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    steps = [
        failing(),  # raised, warning: the parent
        passing(),  # recovered: quiet
        failing(),  # re-fired, warning: quiet
        failing(severity="critical", value=0.6),  # escalated: the channel, with the mention
        passing(),  # recovered: quiet
        failing(severity="critical", value=0.6),  # re-fired, critical as before: quiet
    ]
    no_flapping = AlertPolicy(flap_threshold=0)
    for i, signal in enumerate(steps):
        run_scan(sessions, T0 + i * HOUR, [signal], policy=no_flapping, routing=ROUTING)
        tick(sessions, now=T0 + i * HOUR, notifier=slack, routing=ROUTING)
    broadcast = [text for text, loud in _replies(fake_slack) if loud]
    assert len(_replies(fake_slack)) == 5
    assert len(broadcast) == 1 and broadcast[0].startswith(ONCALL)
    assert "Escalated to critical" in broadcast[0]


def test_unacknowledged_critical_is_paged_again_once_after_escalate_after(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    policy = AlertPolicy(escalate_after=timedelta(minutes=30), remind_every={"critical": None})
    run_scan(sessions, T0, [failing(severity="critical")], policy=policy, routing=ROUTING)
    tick(sessions, now=T0, notifier=slack, routing=ROUTING)
    tick(sessions, now=T0 + timedelta(minutes=29), notifier=slack, routing=ROUTING)
    assert _replies(fake_slack) == []
    for minutes in (30, 60, 120):
        tick(sessions, now=T0 + timedelta(minutes=minutes), notifier=slack, routing=ROUTING)
    [(text, loud)] = _replies(fake_slack)
    assert loud and text.startswith(ONCALL) and "not acknowledged after 0 h" in text
    with sessions() as session:
        assert session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)).all() == [
            "raised",
            "repaged",
        ]


def test_acknowledged_critical_is_not_paged_again(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    policy = AlertPolicy(escalate_after=timedelta(minutes=30))
    run_scan(sessions, T0, [failing(severity="critical")], policy=policy, routing=ROUTING)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="ana", now=T0 + timedelta(minutes=10))
        session.commit()
    tick(sessions, now=T0 + 2 * HOUR, notifier=slack, routing=ROUTING)
    assert [loud for _text, loud in _replies(fake_slack)] == [False]  # the ack's own reply


def test_acknowledgement_times_out_while_the_alert_still_fails(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    policy = AlertPolicy(ack_timeout=timedelta(hours=4))
    run_scan(sessions, T0, [failing(severity="critical")], policy=policy, routing=ROUTING)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="ana", now=T0, note="looking")
        session.commit()
    tick(sessions, now=T0, notifier=slack, routing=ROUTING)
    run_scan(sessions, T0 + HOUR, [failing(severity="critical")], policy=policy, routing=ROUTING)
    tick(sessions, now=T0 + 3 * HOUR, notifier=slack, routing=ROUTING)
    assert len(_replies(fake_slack)) == 1  # the acknowledgement
    tick(sessions, now=T0 + 4 * HOUR, notifier=slack, routing=ROUTING)
    text, loud = _replies(fake_slack)[-1]
    assert loud and text.startswith(ONCALL)
    assert "acknowledgement by ana timed out after 4 h" in text
    with sessions() as session:
        alert = session.scalars(select(Alert)).one()
    assert (alert.state, alert.acked_by, alert.ack_expires_at) == ("firing", None, None)
    assert "Firing" in str(fake_slack.calls_to("chat.update")[-1].params["blocks"])


def test_acknowledgement_of_an_alert_that_recovers_does_not_time_out(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    policy = AlertPolicy(ack_timeout=timedelta(hours=4))
    run_scan(sessions, T0, [failing()], policy=policy)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="ana", now=T0)
        session.commit()
    run_scan(sessions, T0 + HOUR, [passing()], policy=policy)
    tick(sessions, now=T0 + 5 * HOUR, notifier=slack)
    with sessions() as session:
        alert = session.scalars(select(Alert)).one()
    assert alert.state == "resolved"
    assert not any("timed out" in text for text, _ in _replies(fake_slack))
