"""The ``Notifier`` contract, run against every notifier with the same assertions.

Each notifier is driven through a harness that reads what its receiver got: the fake Slack
server's recorded Web API calls (so slack_sdk itself runs), the console's output stream, the
fake PagerDuty's events, the webhook receiver's signed bodies, the SMTP sink's mail. What a
receiver shows for each call is the harness's to say (``expect_*``); that it is shown, in
order, with failures classified and Retry-After honoured, is the same for all. A notifier
joins by adding a harness to ``HARNESSES``.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import get_args

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge
from monitor.alerts.notify import DeliveryError, MessageRef, Notifier, ThreadEvent
from monitor.alerts.policy import Routing, is_external
from monitor.alerts.tick import tick
from monitor.config.notify import Event
from monitor.notifiers.email import EmailNotifier, SmtpServer
from monitor.notifiers.pagerduty import PagerDutyNotifier
from monitor.notifiers.webhook import WebhookNotifier, verify
from monitor.notifiers.words import alert_text, event_text, public_event
from monitor.slack.console import ConsoleNotifier
from monitor.slack.render import fallback_text, reply_text
from monitor.slack.transport import SlackNotifier, make_client
from monitor.store import Alert, Notification
from tests.fakes.http_sink import FakeHttpSink
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.monitor.alerts.conftest import HOUR, T0, failing, run_scan
from tests.waiting import PATIENCE

CHANNEL = "#ml-alerts"
ALL_EVENTS = get_args(Event)


@dataclass(frozen=True)
class Received:
    """One message as its receiver saw it."""

    kind: str  # post | update | reply
    text: str
    broadcast: bool = False


ALL_CALLS = frozenset({"post", "update", "reply"})


class Harness:
    notifier: Notifier
    rate_limits: bool  # whether the receiver can ask us to wait (Retry-After)
    channel = CHANNEL  # the outbox channel of its destination
    reaches = ALL_CALLS  # the calls that reach the receiver (others have no counterpart)
    replies_are_messages = True  # a reply is a message of its own, with its own ref

    def received(self) -> list[Received]:
        raise NotImplementedError

    def expect_post(self, alert: Alert, mention: str | None) -> Received:
        return Received(
            "post", f"{mention} {fallback_text(alert)}" if mention else fallback_text(alert)
        )

    def expect_update(self, alert: Alert) -> Received:
        return Received("update", fallback_text(alert))

    def expect_reply(self, alert: Alert, event: ThreadEvent, broadcast: bool) -> Received:
        return Received("reply", reply_text(event), broadcast)

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


class PagerDutyHarness(Harness):
    rate_limits = True
    channel = "pagerduty:oncall"
    reaches = frozenset({"post", "update"})  # a thread reply has no PagerDuty counterpart
    replies_are_messages = False

    def __init__(self, sink: FakeHttpSink) -> None:
        self.sink = sink
        self.notifier = PagerDutyNotifier(routing_key="R0UTING", api_url=sink.base_url)

    def received(self) -> list[Received]:
        seen = []
        for request in self.sink.received():
            assert request.path == "/v2/enqueue"
            event = request.json()
            assert event["routing_key"] == "R0UTING" and event["dedup_key"].startswith("monitor-")
            summary = event.get("payload", {}).get("summary", event["event_action"])
            seen.append(Received(event["event_action"], summary))
        return seen

    def expect_post(self, alert: Alert, mention: str | None) -> Received:
        return Received("trigger", alert_text(alert))

    def expect_update(self, alert: Alert) -> Received:
        action = {"acknowledged": "acknowledge", "resolved": "resolve"}.get(alert.state)
        return Received(action, action) if action else self.expect_post(alert, None)

    def fail_next(self, how: str, *, retry_after: int = 0) -> None:
        _fail_http(self.sink, how, retry_after)


class WebhookHarness(Harness):
    rate_limits = True
    channel = "webhook:retrain"
    replies_are_messages = True

    def __init__(self, sink: FakeHttpSink) -> None:
        self.sink = sink
        self.notifier = WebhookNotifier(
            url=f"{sink.base_url}/hooks/retrain", secret="s3cret", events=ALL_EVENTS
        )

    def received(self) -> list[Received]:
        seen = []
        for request in self.sink.received():
            assert verify("s3cret", request.body, request.headers, now=time.time())
            body = request.json()
            assert body["schema_version"] == 1
            assert request.headers["X-Monitor-Event"] == body["event"]
            seen.append(
                Received(body["event"], f"{body['alert']['state']}: {body['alert']['summary']}")
            )
        return seen

    def expect_post(self, alert: Alert, mention: str | None) -> Received:
        return Received("raised", f"{alert.state}: {alert.summary}")

    def expect_update(self, alert: Alert) -> Received:
        return Received("updated", f"{alert.state}: {alert.summary}")

    def expect_reply(self, alert: Alert, event: ThreadEvent, broadcast: bool) -> Received:
        return Received(public_event(event.kind), f"{alert.state}: {alert.summary}")

    def fail_next(self, how: str, *, retry_after: int = 0) -> None:
        _fail_http(self.sink, how, retry_after)


def _fail_http(sink: FakeHttpSink, how: str, retry_after: int) -> None:
    if how == "transient":
        sink.fail_next(503)
    elif how == "permanent":
        sink.fail_next(400)
    else:
        sink.fail_next(429, headers={"Retry-After": str(retry_after)})


class EmailHarness(Harness):
    rate_limits = False
    channel = "email:team"
    reaches = frozenset({"post", "reply"})  # a sent email cannot be edited
    replies_are_messages = False

    def __init__(self, smtp: FakeSmtp) -> None:
        self.smtp = smtp
        server = SmtpServer(
            host="127.0.0.1", port=smtp.port, sender="monitor@example.com", starttls=False
        )
        self.notifier = EmailNotifier(server=server, to=["oncall@example.com"])

    def received(self) -> list[Received]:
        seen = []
        messages = self.smtp.received()
        for message in messages:
            parent = message["In-Reply-To"]
            if parent is not None:  # in the thread of the first message about the alert
                assert parent == messages[0]["Message-ID"] == message["References"]
            text = message.get_content().strip()
            seen.append(Received("reply" if parent else "post", text))
        return seen

    def expect_post(self, alert: Alert, mention: str | None) -> Received:
        return Received("post", alert_text(alert))

    def expect_reply(self, alert: Alert, event: ThreadEvent, broadcast: bool) -> Received:
        return Received("reply", event_text(event))

    def fail_next(self, how: str, *, retry_after: int = 0) -> None:
        self.smtp.refuse_next("550 5.1.1 no such user" if how == "permanent" else "451 4.3.0 later")


HARNESSES: dict[str, Callable[[FakeSlack, ExitStack], Harness]] = {
    "console": lambda _fake, _stack: ConsoleHarness(),
    "slack": lambda fake, _stack: SlackHarness(fake),
    "pagerduty": lambda _fake, stack: PagerDutyHarness(
        stack.enter_context(FakeHttpSink().running())
    ),
    "webhook": lambda _fake, stack: WebhookHarness(stack.enter_context(FakeHttpSink().running())),
    "email": lambda _fake, stack: EmailHarness(stack.enter_context(FakeSmtp().running())),
}


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, fake_slack: FakeSlack) -> Iterator[Harness]:
    with ExitStack() as stack:
        yield HARNESSES[request.param](fake_slack, stack)


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
    ref = harness.notifier.post(alert, channel=harness.channel, mention="<!subteam^S1>")
    assert isinstance(ref, MessageRef) and ref.channel and ref.ts
    assert harness.received() == [harness.expect_post(alert, "<!subteam^S1>")]


def test_reply_goes_to_the_thread_in_the_notifiers_words_for_the_event(harness: Harness) -> None:
    alert = _alert()
    parent = harness.notifier.post(alert, channel=harness.channel, mention=None)
    event = ThreadEvent("acknowledged", {"by": "alice", "note": "retraining"})
    ref = harness.notifier.reply(
        alert, channel=parent.channel, thread_ts=parent.ts, event=event, broadcast=True
    )
    assert ref.channel == parent.channel
    if harness.replies_are_messages:
        assert ref.ts != parent.ts
    if "reply" not in harness.reaches:
        assert harness.received() == [harness.expect_post(alert, None)]
        return
    assert harness.received()[-1] == harness.expect_reply(alert, event, True)


def test_update_shows_the_alert_as_it_is_now(harness: Harness) -> None:
    parent = harness.notifier.post(_alert(), channel=harness.channel, mention=None)
    acked = _alert(state="acknowledged", acked_by="alice", acked_at=T0 + HOUR, version=2)
    harness.notifier.update(acked, channel=parent.channel, ts=parent.ts)
    if "update" not in harness.reaches:
        assert harness.received() == [harness.expect_post(_alert(), None)]
        return
    assert harness.received()[-1] == harness.expect_update(acked)
    assert "acknowledge" in harness.received()[-1].text


@pytest.mark.parametrize("how", ["transient", "permanent"])
@pytest.mark.parametrize("call", ["post", "update", "reply"])
def test_failures_are_delivery_errors_saying_whether_to_retry(
    harness: Harness, how: str, call: str
) -> None:
    if call not in harness.reaches:
        pytest.skip(f"{call} has no counterpart at this receiver")
    alert = _alert()
    parent = harness.notifier.post(alert, channel=harness.channel, mention=None)
    calls: dict[str, Callable[[], object]] = {
        "post": lambda: harness.notifier.post(alert, channel=harness.channel, mention=None),
        "update": lambda: harness.notifier.update(alert, channel=parent.channel, ts=parent.ts),
        "reply": lambda: harness.notifier.reply(
            alert,
            channel=parent.channel,
            thread_ts=parent.ts,
            event=ThreadEvent("recovered", {"value": 0.9, "breaching": 0.74}),
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
        harness.notifier.post(_alert(), channel=harness.channel, mention=None)
    assert (failed.value.permanent, failed.value.retry_after) == (False, 7.0)


def _rows(sessions: sessionmaker[Session]) -> list[Notification]:
    with sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_tick_delivers_an_alerts_story_in_order_through_the_notifier(
    sessions: sessionmaker[Session], harness: Harness
) -> None:
    routing = Routing(default_channel=harness.channel)
    run_scan(sessions, T0, [failing()], routing=routing)
    tick(sessions, now=T0, notifier=harness.notifier, routing=routing)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)
        session.commit()
        alert = session.get_one(Alert, 1)
    tick(sessions, now=T0 + HOUR, notifier=harness.notifier, routing=routing)
    rows = _rows(sessions)
    assert [(r.kind, r.status) for r in rows] == [
        ("post", "sent"),
        ("update", "sent"),
        ("reply", "sent"),
    ]
    if is_external(harness.channel):  # its own row stream; Slack's thread is spelt by id
        assert {r.channel for r in rows} == {harness.channel}
    posted = _alert(id=1, severity="warning", summary=alert.summary)
    expected = [
        ("post", harness.expect_post(posted, None)),
        ("update", harness.expect_update(alert)),
        ("reply", harness.expect_reply(alert, ThreadEvent("acknowledged", {"by": "alice"}), False)),
    ]
    got = [(r.kind, r.text) for r in harness.received()]
    assert got == [(e.kind, e.text) for call, e in expected if call in harness.reaches]


def test_tick_retries_a_transient_failure_and_keeps_a_permanent_one_failed(
    sessions: sessionmaker[Session], harness: Harness
) -> None:
    routing = Routing(default_channel=harness.channel)
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
    routing = Routing(default_channel=harness.channel)
    run_scan(sessions, T0, [failing()], routing=routing)
    harness.fail_next("rate_limited", retry_after=30)
    tick(sessions, now=T0, notifier=harness.notifier, routing=routing)
    [row] = _rows(sessions)
    assert (row.status, row.next_attempt_at) == ("pending", T0 + timedelta(seconds=30))
    early = tick(sessions, now=T0 + timedelta(seconds=29), notifier=harness.notifier)
    assert early.delivery.sent == 0
    later = tick(sessions, now=T0 + timedelta(seconds=30), notifier=harness.notifier)
    assert later.delivery.sent == 1
