"""The ``Notifier`` contract, run against every notifier with the same assertions.

Each notifier is driven through a harness that reads what its receiver got: the fake Slack
server's recorded Web API calls (so slack_sdk itself runs), or the console's output stream.
A new notifier (PagerDuty, webhook, email) joins by adding a harness to ``HARNESSES``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge
from monitor.alerts.notify import DeliveryError, MessageRef, Notifier, ThreadEvent
from monitor.alerts.policy import Routing
from monitor.alerts.tick import tick
from monitor.slack.console import ConsoleNotifier
from monitor.slack.render import fallback_text, reply_text
from monitor.slack.transport import SlackNotifier, make_client
from monitor.store import Alert, Notification
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, run_scan
from tests.waiting import PATIENCE

CHANNEL = "#ml-alerts"


@dataclass(frozen=True)
class Received:
    """One message as its receiver saw it."""

    kind: str  # post | update | reply
    text: str
    broadcast: bool = False


class Harness:
    notifier: Notifier
    rate_limits: bool  # whether the receiver can ask us to wait (Retry-After)

    def received(self) -> list[Received]:
        raise NotImplementedError

    def fail_next(self, how: str, *, retry_after: int = 0) -> None:
        """Make the next call fail: ``transient``, ``permanent`` or ``rate_limited``."""
        raise NotImplementedError


class SlackHarness(Harness):
    rate_limits = True

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        client = make_client("xoxb-test", base_url=fake.base_url, timeout=int(PATIENCE / 3))
        self.notifier = SlackNotifier(client, interactive=True)

    def received(self) -> list[Received]:
        seen = []
        for call in self.fake.calls:
            params = call.params
            if call.method == "chat.update":
                seen.append(Received("update", params["text"]))
            elif call.method == "chat.postMessage" and params.get("thread_ts"):
                broadcast = str(params.get("reply_broadcast")).lower() in ("true", "1")
                seen.append(Received("reply", params["text"], broadcast))
            elif call.method == "chat.postMessage":
                seen.append(Received("post", params["text"]))
        return seen

    def fail_next(self, how: str, *, retry_after: int = 0) -> None:
        for method in ("chat.postMessage", "chat.update"):
            if how == "transient":
                self.fake.fail_next(method, status=503)
            elif how == "permanent":
                self.fake.fail_next(method, error="channel_not_found")
            else:
                self.fake.fail_next(
                    method,
                    status=429,
                    error="ratelimited",
                    headers={"Retry-After": str(retry_after)},
                )


class _Stream(io.StringIO):
    """The console's output, which can be made to fail once like a full disk or a closed pipe."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: Exception | None = None

    def write(self, text: str) -> int:
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure
        return super().write(text)


class ConsoleHarness(Harness):
    rate_limits = False
    _POST = re.compile(r"┌ Slack post to \S+ \(message \S+\)\n│ (.*)")
    _EDIT = re.compile(r"┌ Slack edit of message \S+ in \S+\n│ (.*)")
    _REPLY = re.compile(r"└─ thread reply(, also sent to channel)? on alert \d+: (.*)")

    def __init__(self) -> None:
        self.out = _Stream()
        self.notifier = ConsoleNotifier(self.out)

    def received(self) -> list[Received]:
        found = []
        text = self.out.getvalue()
        for kind, pattern in (("post", self._POST), ("update", self._EDIT)):
            found += [(m.start(), Received(kind, m.group(1))) for m in pattern.finditer(text)]
        for m in self._REPLY.finditer(text):
            found.append((m.start(), Received("reply", m.group(2), m.group(1) is not None)))
        return [received for _, received in sorted(found, key=lambda pair: pair[0])]

    def fail_next(self, how: str, *, retry_after: int = 0) -> None:
        if how == "permanent":
            self.out.failure = ValueError("I/O operation on closed file.")
        else:
            self.out.failure = OSError(28, "No space left on device")


HARNESSES: dict[str, Callable[[FakeSlack], Harness]] = {
    "console": lambda _fake: ConsoleHarness(),
    "slack": SlackHarness,
}


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, fake_slack: FakeSlack) -> Iterator[Harness]:
    yield HARNESSES[request.param](fake_slack)


def _alert(**changes: object) -> Alert:
    columns: dict[str, object] = {
        "id": 7,
        "model": "churn",
        "check_id": "accuracy",
        "segment": "",
        "state": "firing",
        "severity": "critical",
        "condition": "critical",
        "occurrences": 1,
        "value": 0.74,
        "threshold": 0.8,
        "summary": "accuracy 0.74 < min 0.8",
        "raised_at": T0,
        "version": 1,
    }
    return Alert(**(columns | changes))


def test_post_returns_where_the_parent_landed_and_shows_the_alert(harness: Harness) -> None:
    alert = _alert()
    ref = harness.notifier.post(alert, channel=CHANNEL, mention="<!subteam^S1>")
    assert isinstance(ref, MessageRef) and ref.channel and ref.ts
    assert harness.received() == [Received("post", f"<!subteam^S1> {fallback_text(alert)}")]


def test_reply_goes_to_the_thread_in_the_notifiers_words_for_the_event(harness: Harness) -> None:
    alert = _alert()
    parent = harness.notifier.post(alert, channel=CHANNEL, mention=None)
    event = ThreadEvent("acknowledged", {"by": "alice", "note": "retraining"})
    ref = harness.notifier.reply(
        alert, channel=parent.channel, thread_ts=parent.ts, event=event, broadcast=True
    )
    assert ref.ts != parent.ts
    assert harness.received()[-1] == Received(
        "reply", ":eyes: Acknowledged by alice: retraining", broadcast=True
    )


def test_update_shows_the_alert_as_it_is_now(harness: Harness) -> None:
    parent = harness.notifier.post(_alert(), channel=CHANNEL, mention=None)
    acked = _alert(state="acknowledged", acked_by="alice", acked_at=T0 + HOUR, version=2)
    harness.notifier.update(acked, channel=parent.channel, ts=parent.ts)
    assert harness.received()[-1] == Received("update", fallback_text(acked))
    assert "(acknowledged)" in harness.received()[-1].text


@pytest.mark.parametrize("how", ["transient", "permanent"])
@pytest.mark.parametrize("call", ["post", "update", "reply"])
def test_failures_are_delivery_errors_saying_whether_to_retry(
    harness: Harness, how: str, call: str
) -> None:
    alert = _alert()
    parent = harness.notifier.post(alert, channel=CHANNEL, mention=None)
    calls: dict[str, Callable[[], object]] = {
        "post": lambda: harness.notifier.post(alert, channel=CHANNEL, mention=None),
        "update": lambda: harness.notifier.update(alert, channel=parent.channel, ts=parent.ts),
        "reply": lambda: harness.notifier.reply(
            alert,
            channel=parent.channel,
            thread_ts=parent.ts,
            event=ThreadEvent("recovered"),
            broadcast=False,
        ),
    }
    harness.fail_next(how)
    with pytest.raises(DeliveryError) as failed:
        calls[call]()
    assert failed.value.permanent is (how == "permanent")
    assert failed.value.retry_after is None


def test_a_rate_limit_says_how_long_to_wait(harness: Harness) -> None:
    if not harness.rate_limits:
        pytest.skip("this receiver never asks to wait")
    harness.fail_next("rate_limited", retry_after=7)
    with pytest.raises(DeliveryError) as failed:
        harness.notifier.post(_alert(), channel=CHANNEL, mention=None)
    assert (failed.value.permanent, failed.value.retry_after) == (False, 7.0)


def _rows(sessions: sessionmaker[Session]) -> list[Notification]:
    with sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_tick_delivers_an_alerts_story_in_order_through_the_notifier(
    sessions: sessionmaker[Session], harness: Harness
) -> None:
    routing = Routing(default_channel=CHANNEL)
    run_scan(sessions, T0, [failing()], routing=routing)
    tick(sessions, now=T0, notifier=harness.notifier, routing=routing)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)
        session.commit()
        alert = session.get_one(Alert, 1)
    tick(sessions, now=T0 + HOUR, notifier=harness.notifier, routing=routing)
    assert [r.status for r in _rows(sessions)] == ["sent", "sent", "sent"]
    assert [(r.kind, r.text) for r in harness.received()] == [
        ("post", fallback_text(_alert(id=1, severity="warning", summary=alert.summary))),
        ("update", fallback_text(alert)),
        ("reply", reply_text(ThreadEvent("acknowledged", {"by": "alice"}))),
    ]


def test_tick_retries_a_transient_failure_and_keeps_a_permanent_one_failed(
    sessions: sessionmaker[Session], harness: Harness
) -> None:
    routing = Routing(default_channel=CHANNEL)
    run_scan(sessions, T0, [failing()], routing=routing)
    harness.fail_next("transient")
    first = tick(sessions, now=T0, notifier=harness.notifier, routing=routing)
    assert (first.delivery.retried, [r.status for r in _rows(sessions)]) == (1, ["pending"])
    [row] = _rows(sessions)
    assert row.next_attempt_at > T0  # backing off
    second = tick(sessions, now=row.next_attempt_at, notifier=harness.notifier, routing=routing)
    assert (second.delivery.sent, [r.status for r in _rows(sessions)]) == (1, ["sent"])
    run_scan(sessions, T0 + HOUR, [failing("row_count")], routing=routing)
    harness.fail_next("permanent")
    tick(sessions, now=T0 + 2 * HOUR, notifier=harness.notifier, routing=routing)
    assert [r.status for r in _rows(sessions)] == ["sent", "failed"]


def test_tick_holds_the_channel_for_as_long_as_the_receiver_asked(
    sessions: sessionmaker[Session], harness: Harness
) -> None:
    if not harness.rate_limits:
        pytest.skip("this receiver never asks to wait")
    routing = Routing(default_channel=CHANNEL)
    run_scan(sessions, T0, [failing()], routing=routing)
    harness.fail_next("rate_limited", retry_after=30)
    tick(sessions, now=T0, notifier=harness.notifier, routing=routing)
    [row] = _rows(sessions)
    assert (row.status, row.next_attempt_at) == ("pending", T0 + timedelta(seconds=30))
    early = tick(sessions, now=T0 + timedelta(seconds=29), notifier=harness.notifier)
    assert early.delivery.sent == 0
    later = tick(sessions, now=T0 + timedelta(seconds=30), notifier=harness.notifier)
    assert later.delivery.sent == 1
