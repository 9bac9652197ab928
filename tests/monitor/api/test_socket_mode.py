"""Button clicks over Socket Mode (no public URL): acknowledged at once, then applied."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.dispatch import deliver_due
from monitor.slack.interactions import click_handler
from monitor.slack.transport import (
    SlackNotifier,
    make_client,
    respond_ephemeral,
    start_socket_mode,
)
from monitor.store import Alert
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.monitor.alerts.conftest import T0, failing, run_scan
from tests.monitor.api.conftest import Clock, button_click
from tests.waiting import PATIENCE, wait_for


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode().running() as fake:
        fake_slack.socket_mode_url = fake.url
        yield fake


def _click(fake_slack: FakeSlack, user: str) -> dict[str, object]:
    body, _ = button_click(
        action_id="alert_ack",
        value="1:1",
        user=user,
        response_url=fake_slack.response_url(user),
        timestamp=0,
    )
    return json.loads(parse_qs(body.decode())["payload"][0])  # type: ignore[no-any-return]


def test_socket_mode_click_is_acked_applied_and_the_loser_told_who_won(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    run_scan(sessions, T0, [failing()])
    # Longer than the wait for the ack: an ack that waited for Slack would not come in time.
    client = make_client("xoxb-test", base_url=fake_slack.base_url, timeout=int(2 * PATIENCE))
    notifier = SlackNotifier(client, interactive=True)
    clock = Clock(T0)
    handler = click_handler(
        sessions=sessions,
        clock=clock,
        deliver=lambda: deliver_due(sessions, now=clock(), notifier=notifier),
        respond=respond_ephemeral,
    )
    app_client = make_client("xoxb-test", base_url=fake_slack.base_url)
    stop = start_socket_mode(app_token="xapp-test", client=app_client, on_payload=handler)
    slack_answers = threading.Event()
    try:
        socket_mode.wait_connected()
        fake_slack.on_call = lambda call: slack_answers.wait(3 * PATIENCE)
        first = socket_mode.push_interactive(_click(fake_slack, "alice"))
        # Acknowledged while every Slack call the click causes still hangs: the ack does not
        # wait for that work, so Slack gets it within its 3 s however slow Slack or this machine.
        socket_mode.wait_for_ack(first)
        slack_answers.set()
        fake_slack.on_call = None
        wait_for("the message edit", lambda: fake_slack.calls_to("chat.update"))
        second = socket_mode.push_interactive(_click(fake_slack, "bob"))
        socket_mode.wait_for_ack(second)
        wait_for("the notice to bob", lambda: fake_slack.calls_to("response_url:bob"))
    finally:
        slack_answers.set()
        stop()
    with sessions() as session:
        assert session.get_one(Alert, 1).acked_by == "alice"
    [notice] = fake_slack.calls_to("response_url:bob")
    assert "already acknowledged by alice" in str(notice.params["text"])
    assert fake_slack.calls_to("apps.connections.open")[0].headers["Authorization"] == (
        "Bearer xapp-test"
    )


@pytest.mark.parametrize("alert_id", [999999, -5, 2**31])
def test_socket_mode_click_for_a_missing_alert_tells_the_user_and_raises_nothing(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, alert_id: int
) -> None:
    run_scan(sessions, T0, [failing()])
    told: list[tuple[str, str]] = []
    delivered: list[int] = []
    handler = click_handler(
        sessions=sessions,
        clock=Clock(T0),
        deliver=lambda: delivered.append(1),
        respond=lambda url, text: told.append((url, text)),
    )
    payload = _click(fake_slack, "mallory")
    payload["actions"][0]["value"] = f"{alert_id}:1"  # type: ignore[index]
    handler(payload)  # runs on Socket Mode's thread: an exception there would be lost
    assert told == [(fake_slack.response_url("mallory"), f"alert {alert_id} does not exist")]
    assert delivered == []
    with sessions() as session:
        assert session.get_one(Alert, 1).state == "firing"
