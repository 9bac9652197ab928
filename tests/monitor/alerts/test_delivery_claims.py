"""Delivery under a slow or rate-limiting Slack: one parent per alert, no pooled connection
held across a Slack call, and Retry-After kept between ticks."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts import outbox
from monitor.alerts.actions import acknowledge
from monitor.alerts.notify import MessageRef, ThreadEvent
from monitor.alerts.policy import Routing
from monitor.alerts.tick import tick
from monitor.slack.transport import SlackNotifier, make_client
from monitor.store import Alert, Notification
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan

BURST = 30


def _notifier(fake: FakeSlack) -> SlackNotifier:
    return SlackNotifier(
        make_client("xoxb-test", base_url=fake.base_url, timeout=30), interactive=True
    )


def _parents(fake: FakeSlack) -> list[str]:
    return [
        c.params["text"] for c in fake.calls_to("chat.postMessage") if "thread_ts" not in c.params
    ]


def _pending(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        query = select(func.count(Notification.id)).where(Notification.status == "pending")
        return session.scalar(query) or 0


def test_two_deliverers_and_a_slow_slack_post_one_parent_per_alert(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst whose delivery outlives the claim lease: the second deliverer takes over only
    the rows the first has not reached, and the first skips those.

    The lease is 4 s and each Slack call takes 0.3 s, so one deliverer needs 9 s for the burst
    (its claim on the last rows expires on the way) while any single call stays far inside
    the lease: the verdict does not hang on how fast the machine is.
    """
    monkeypatch.setattr(outbox, "CLAIM_LEASE", timedelta(seconds=4))
    run_scan(sessions, T0, [failing(f"check_{i:02d}") for i in range(BURST)])
    fake_slack.delay = 0.3
    started = time.monotonic()
    sent: dict[str, int] = {}
    errors: list[BaseException] = []

    def deliverer(name: str) -> None:
        notifier = _notifier(fake_slack)
        deadline = started + 180
        try:
            while _pending(sessions) and time.monotonic() < deadline:
                now = T0 + timedelta(seconds=time.monotonic() - started)
                report = tick(sessions, now=now, notifier=notifier)
                sent[name] = sent.get(name, 0) + report.delivery.sent
                time.sleep(0.1)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliverer, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors
    assert _pending(sessions) == 0
    parents = Counter(_parents(fake_slack))
    assert len(parents) == BURST and set(parents.values()) == {1}, parents
    with sessions() as session:
        assert all(a.slack_ts for a in session.scalars(select(Alert)))
    assert sent.get("a") and sent.get("b"), sent  # the takeover really happened
    assert sum(sent.values()) == BURST


class _PoolWatcher:
    """A notifier that notes how many pooled connections are checked out during each call."""

    def __init__(self, inner: SlackNotifier, engine: Engine) -> None:
        self.inner, self.engine = inner, engine
        self.checked_out: list[int] = []

    def _note(self) -> None:
        self.checked_out.append(self.engine.pool.checkedout())  # type: ignore[attr-defined]

    def post(self, alert: Alert, *, channel: str, mention: str | None) -> MessageRef:
        self._note()
        return self.inner.post(alert, channel=channel, mention=mention)

    def update(self, alert: Alert, *, channel: str, ts: str) -> None:
        self._note()
        self.inner.update(alert, channel=channel, ts=ts)

    def reply(
        self, alert: Alert, *, channel: str, thread_ts: str, event: ThreadEvent, broadcast: bool
    ) -> MessageRef:
        self._note()
        return self.inner.reply(
            alert, channel=channel, thread_ts=thread_ts, event=event, broadcast=broadcast
        )


@pytest.mark.parametrize("source", ["factory", "one session"])
def test_no_database_connection_is_held_while_slack_is_called(
    sessions: sessionmaker[Session],
    engine: Engine,
    fake_slack: FakeSlack,
    slack: SlackNotifier,
    source: str,
) -> None:
    watcher = _PoolWatcher(slack, engine)

    def deliver(now: datetime) -> None:
        if source == "factory":
            tick(sessions, now=now, notifier=watcher)
            return
        with sessions() as session:  # what `monitor scan` and `monitor ack` pass
            tick(session, now=now, notifier=watcher)

    run_scan(sessions, T0, [failing()])
    deliver(T0)
    run_scan(sessions, T0 + HOUR, [passing()])
    deliver(T0 + HOUR)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + 2 * HOUR)
        session.commit()
    deliver(T0 + 2 * HOUR)
    assert [c.method for c in fake_slack.calls][:3] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
    ]
    assert len(watcher.checked_out) == len(fake_slack.calls) >= 5
    assert set(watcher.checked_out) == {0}


def _rate_limit_next(fake: FakeSlack, method: str, seconds: int, channel: str | None) -> None:
    fake.fail_next(
        method,
        status=429,
        error="ratelimited",
        headers={"Retry-After": str(seconds)},
        channel=channel,
    )


def test_retry_after_holds_the_channel_across_ticks_for_rows_queued_later(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    churn = Routing(default_channel="#churn")
    _rate_limit_next(fake_slack, "chat.postMessage", 7, "#churn")
    run_scan(sessions, T0, [failing()], routing=churn)
    tick(sessions, now=T0, notifier=slack)
    assert len(fake_slack.calls) == 1
    # Another alert for the same channel, queued after the 429, and the next ticks.
    run_scan(sessions, T0, [failing()], model="fraud", routing=churn)
    for seconds in (2, 4, 6):
        tick(sessions, now=T0 + timedelta(seconds=seconds), notifier=slack)
    assert len(fake_slack.calls) == 1  # nobody called Slack before Retry-After
    with sessions() as session:
        waiting = list(session.scalars(select(Notification.next_attempt_at)))
    assert waiting == [T0 + timedelta(seconds=7)] * 2  # stored on the rows
    tick(sessions, now=T0 + timedelta(seconds=7), notifier=slack)
    assert len(_parents(fake_slack)) == 3 and _pending(sessions) == 0


def test_a_rate_limited_edit_holds_posts_to_the_same_channel_by_name(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    """Edits go to the channel id Slack answered with, posts to the configured name."""
    churn = Routing(default_channel="#churn")
    run_scan(sessions, T0, [failing()], routing=churn)
    tick(sessions, now=T0, notifier=slack)
    run_scan(sessions, T0 + HOUR, [passing()], routing=churn)
    _rate_limit_next(fake_slack, "chat.update", 30, None)
    tick(sessions, now=T0 + HOUR, notifier=slack)
    calls = len(fake_slack.calls)
    run_scan(sessions, T0 + HOUR, [failing()], model="fraud", routing=churn)
    tick(sessions, now=T0 + HOUR + timedelta(seconds=10), notifier=slack)
    assert len(fake_slack.calls) == calls
    tick(sessions, now=T0 + HOUR + timedelta(seconds=30), notifier=slack)
    assert _pending(sessions) == 0


def test_an_expired_claim_on_a_post_is_checked_against_the_alerts_message_first(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    """A post row left pending under a dead pass's expired claim, for an alert whose parent
    message exists: the next pass records it as sent without posting a second parent."""
    run_scan(sessions, T0, [failing()])
    tick(sessions, now=T0, notifier=slack)
    with sessions() as session:
        parent = session.get_one(Alert, 1).slack_ts
        session.execute(
            update(Notification)
            .where(Notification.kind == "post")
            .values(status="pending", claimed_until=T0, slack_ts=None)
        )
        session.commit()
    report = tick(sessions, now=T0 + timedelta(minutes=3), notifier=slack)
    assert len(_parents(fake_slack)) == 1
    assert (report.delivery.sent, report.delivery.skipped) == (0, 1)
    with sessions() as session:
        row = session.scalars(select(Notification)).one()
    assert (row.status, row.slack_ts) == ("sent", parent)
    assert "not posted again" in (row.last_error or "")
