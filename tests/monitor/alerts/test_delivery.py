"""Outbox delivery through slack_sdk against a fake Slack (scenarios 3, 4, 11, 12, 13)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge
from monitor.alerts.policy import Routing, SeverityRoute
from monitor.alerts.tick import tick
from monitor.slack.transport import SlackNotifier, make_client
from monitor.store import Alert, Notification, make_engine, make_sessionmaker
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan


def _alert(sessions: sessionmaker[Session], alert_id: int = 1) -> Alert:
    with sessions() as session:
        return session.get_one(Alert, alert_id)


def _rows(sessions: sessionmaker[Session]) -> list[Notification]:
    with sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_raised_alert_is_posted_with_buttons_and_its_ts_stored(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing()], routing=Routing(default_channel="#ml-alerts"))
    report = tick(sessions, now=T0, notifier=slack)
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "#ml-alerts"
    assert post.headers["Authorization"] == "Bearer xoxb-test"
    actions = next(b for b in post.params["blocks"] if b["type"] == "actions")["elements"]
    assert [e["action_id"] for e in actions] == [
        "alert_ack",
        "alert_ack_note",
        "alert_snooze",
        "alert_resolve",
        "alert_open",
    ]
    alert = _alert(sessions)
    assert (alert.slack_channel, report.delivery.sent) == ("CML_ALERTS", 1)
    assert alert.slack_ts is not None and [r.status for r in _rows(sessions)] == ["sent"]


def test_critical_alerts_route_to_the_severity_channel_with_a_mention(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    routing = Routing(severities={"critical": SeverityRoute("#oncall", "<!subteam^S123>")})
    run_scan(sessions, T0, [failing(severity="critical")], routing=routing)
    tick(sessions, now=T0, notifier=slack, routing=routing)
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "#oncall"
    assert post.params["text"].startswith("<!subteam^S123> [CRITICAL] churn: accuracy")


def test_refire_is_a_quiet_thread_reply_and_an_edit_not_a_new_parent(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing()])
    tick(sessions, now=T0, notifier=slack)
    run_scan(sessions, T0 + HOUR, [passing()])
    run_scan(sessions, T0 + 2 * HOUR, [failing()])
    tick(sessions, now=T0 + 2 * HOUR, notifier=slack)
    posts = fake_slack.calls_to("chat.postMessage")
    parent_ts = _alert(sessions).slack_ts
    replies = [p.params for p in posts if "thread_ts" in p.params]
    assert len(posts) - len(replies) == 1
    assert [(r["thread_ts"], r["reply_broadcast"]) for r in replies] == [
        (parent_ts, False),  # recovered: quiet
        (parent_ts, False),  # re-fired at the same severity: only an escalation pages
    ]
    assert "occurrence 2" in replies[-1]["text"]
    # Both edits were coalesced into one that shows the current state.
    [edit] = fake_slack.calls_to("chat.update")
    assert edit.params["ts"] == parent_ts and "(firing)" in edit.params["text"]


def test_acknowledge_edits_the_message_to_show_who_and_unack_button(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing()])
    tick(sessions, now=T0, notifier=slack)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR, note="retraining")
        session.commit()
    tick(sessions, now=T0 + HOUR, notifier=slack)
    [edit] = fake_slack.calls_to("chat.update")
    context = " ".join(
        e["text"] for b in edit.params["blocks"] if b["type"] == "context" for e in b["elements"]
    )
    assert "acknowledged by alice" in context and "retraining" in context
    buttons = next(b for b in edit.params["blocks"] if b["type"] == "actions")["elements"]
    assert buttons[0]["action_id"] == "alert_unack"


def test_new_alert_after_resolve_gets_a_new_parent_message(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing()])
    run_scan(sessions, T0 + HOUR, [passing()])
    tick(sessions, now=T0 + HOUR, notifier=slack)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)
        session.commit()
    run_scan(sessions, T0 + 2 * HOUR, [failing()])
    tick(sessions, now=T0 + 2 * HOUR, notifier=slack)
    parents = [c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" not in c.params]
    assert len(parents) == 2
    assert _alert(sessions, 1).slack_ts != _alert(sessions, 2).slack_ts


def test_rate_limited_row_waits_for_retry_after_while_other_channels_flow(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    retry_after = 600  # longer than any tick on any machine: a tick that slept is caught
    fake_slack.fail_next(
        "chat.postMessage",
        status=429,
        error="ratelimited",
        headers={"Retry-After": str(retry_after)},
        channel="#churn",
    )
    run_scan(sessions, T0, [failing()], routing=Routing(default_channel="#churn"))
    run_scan(sessions, T0, [failing()], model="fraud", routing=Routing(default_channel="#fraud"))
    started = time.monotonic()
    report = tick(sessions, now=T0, notifier=slack)
    assert time.monotonic() - started < retry_after  # nobody slept for Retry-After
    assert (report.delivery.sent, report.delivery.retried) == (1, 1)
    churn, fraud = _rows(sessions)
    assert (churn.status, churn.next_attempt_at, churn.attempts) == (
        "pending",
        T0 + timedelta(seconds=retry_after),
        1,
    )
    assert fraud.status == "sent"
    tick(sessions, now=T0 + timedelta(seconds=retry_after - 1), notifier=slack)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    tick(sessions, now=T0 + timedelta(seconds=retry_after), notifier=slack)
    assert [r.status for r in _rows(sessions)] == ["sent", "sent"]


def test_server_errors_back_off_exponentially_then_deliver(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500, times=2)
    run_scan(sessions, T0, [failing()])
    tick(sessions, now=T0, notifier=slack)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # no inline retry
    [row] = _rows(sessions)
    assert (row.next_attempt_at, row.attempts) == (T0 + timedelta(seconds=30), 1)
    assert "500" in (row.last_error or "")
    tick(sessions, now=row.next_attempt_at, notifier=slack)
    [row] = _rows(sessions)
    assert row.next_attempt_at == T0 + timedelta(seconds=30) + timedelta(seconds=60)
    tick(sessions, now=row.next_attempt_at, notifier=slack)
    assert [r.status for r in _rows(sessions)] == ["sent"]


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth"])
def test_permanent_slack_errors_stop_retrying_and_are_reported(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier, error: str
) -> None:
    fake_slack.fail_next("chat.postMessage", error=error)
    run_scan(sessions, T0, [failing()])
    tick(sessions, now=T0, notifier=slack)
    tick(sessions, now=T0 + timedelta(days=1), notifier=slack)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    [failed] = [r for r in _rows(sessions) if r.status == "failed"]
    assert failed.status == "failed" and error in (failed.last_error or "")


def test_network_error_is_retried_later(
    sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    unreachable = make_client("xoxb-test", base_url="http://127.0.0.1:9/api/", timeout=2)
    run_scan(sessions, T0, [failing()])
    tick(sessions, now=T0, notifier=SlackNotifier(unreachable, interactive=False))
    [row] = _rows(sessions)
    assert (row.status, row.next_attempt_at) == ("pending", T0 + timedelta(seconds=30))
    assert "network error" in (row.last_error or "")


class _Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def test_process_killed_after_posting_loses_no_alert(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    """Scenario 11: Slack accepted the post, the process died before storing the ts.

    Documented outcome: the claim expires, the row is posted again (a duplicate parent
    message), the alert points at the second message, and nothing is lost.
    """

    class DyingNotifier(SlackNotifier):
        def post(self, alert, *, channel, mention):  # type: ignore[no-untyped-def]
            ref = super().post(alert, channel=channel, mention=mention)
            raise _Killed(ref)

    dying = DyingNotifier(slack.client, interactive=True)
    run_scan(sessions, T0, [failing()])
    with pytest.raises(_Killed):
        tick(sessions, now=T0, notifier=dying)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    [row] = _rows(sessions)
    assert row.status == "pending" and _alert(sessions).slack_ts is None
    # A restarted process within the claim lease leaves the row alone ...
    tick(sessions, now=T0 + timedelta(minutes=1), notifier=slack)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    # ... and once the lease expired it posts again.
    tick(sessions, now=T0 + timedelta(minutes=3), notifier=slack)
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 2
    assert _alert(sessions).slack_ts is not None
    assert [r.status for r in _rows(sessions)] == ["sent"]


def test_restart_with_open_alerts_reannounces_nothing_and_reminds_on_schedule(
    engine: Engine,
    db_url: str,
    sessions: sessionmaker[Session],
    fake_slack: FakeSlack,
    slack: SlackNotifier,
) -> None:
    run_scan(sessions, T0, [failing(severity="critical")])
    tick(sessions, now=T0, notifier=slack)
    engine.dispose()
    restarted = make_engine(db_url)
    try:
        fresh = make_sessionmaker(restarted)
        notifier = SlackNotifier(
            make_client("xoxb-test", base_url=fake_slack.base_url), interactive=True
        )
        tick(fresh, now=T0 + timedelta(minutes=5), notifier=notifier)
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
        tick(fresh, now=T0 + 4 * HOUR - timedelta(seconds=1), notifier=notifier)
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
        tick(fresh, now=T0 + 4 * HOUR, notifier=notifier)
        reminder = fake_slack.calls_to("chat.postMessage")[-1].params
        # Reminders stay in the thread and back off (issue 15): 4h, then 8h more.
        assert reminder["reply_broadcast"] is False and "Still critical" in reminder["text"]
        with fresh() as session:
            assert session.get_one(Alert, 1).next_reminder_at == T0 + 12 * HOUR
    finally:
        restarted.dispose()


def test_acknowledged_alert_gets_no_reminders(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing(severity="critical")])
    tick(sessions, now=T0, notifier=slack)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)
        session.commit()
    tick(sessions, now=T0 + HOUR, notifier=slack)
    calls = len(fake_slack.calls)
    tick(sessions, now=T0 + 30 * HOUR, notifier=slack)
    assert len(fake_slack.calls) == calls


def test_tick_prunes_settled_notifications_past_retention_but_keeps_pending_ones(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [failing("accuracy")])
    tick(sessions, now=T0, notifier=slack)
    fake_slack.fail_next("chat.postMessage", status=500, times=100)
    run_scan(sessions, T0, [failing("row_count")])
    report = tick(sessions, now=T0 + timedelta(days=31), notifier=slack)
    assert report.pruned == 1
    rows = _rows(sessions)
    assert 1 not in [r.id for r in rows]  # the post sent 31 days ago
    assert {r.status for r in rows} == {"pending"}  # failing ones stay until delivered
