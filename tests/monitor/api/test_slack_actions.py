"""``POST /slack/actions``: signed button clicks from Slack (scenarios 6 and 14)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from monitor.api.app import ApiSettings, create_app
from monitor.slack.transport import SlackNotifier, make_client
from monitor.store import Alert, AlertEvent
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import T0, failing, run_scan
from tests.monitor.api.conftest import SIGNING_SECRET, Clock, button_click
from tests.waiting import PATIENCE, serving, wait_for

NOW = int(T0.timestamp())


def _snapshot(sessions: sessionmaker[Session]) -> tuple[str, str | None, int, int]:
    with sessions() as session:
        alert = session.get_one(Alert, 1)
        events = session.query(AlertEvent).count()
        return alert.state, alert.acked_by, alert.version, events


def test_signed_acknowledge_click_acks_as_the_slack_user_and_edits_the_message(
    client: TestClient, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    run_scan(sessions, T0, [failing()])
    body, headers = button_click(
        action_id="alert_ack",
        value="1:1",
        user="alice",
        response_url=fake_slack.response_url("r1"),
        timestamp=NOW,
    )
    response = client.post("/slack/actions", content=body, headers=headers)
    assert response.status_code == 200
    assert _snapshot(sessions)[:2] == ("acknowledged", "alice")
    [edit] = fake_slack.calls_to("chat.update")
    assert "acknowledged by alice" in str(edit.params["blocks"])


def test_snooze_button_snoozes_for_the_duration_in_its_value(
    client: TestClient, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    run_scan(sessions, T0, [failing()])
    body, headers = button_click(
        action_id="alert_snooze",
        value="1:1:4h",
        user="bob",
        response_url=fake_slack.response_url("r"),
        timestamp=NOW,
    )
    assert client.post("/slack/actions", content=body, headers=headers).status_code == 200
    with sessions() as session:
        assert session.get_one(Alert, 1).snoozed_until == T0 + timedelta(hours=4)


@pytest.mark.parametrize(
    ("case", "age_s", "secret"),
    [("wrong secret", 0, "not-the-secret"), ("older than 5 minutes", 301, SIGNING_SECRET)],
)
def test_bad_or_stale_signature_is_401_with_no_state_change(
    client: TestClient,
    sessions: sessionmaker[Session],
    fake_slack: FakeSlack,
    case: str,
    age_s: int,
    secret: str,
) -> None:
    run_scan(sessions, T0, [failing()])
    before = _snapshot(sessions)
    body, headers = button_click(
        action_id="alert_ack",
        value="1:1",
        user="mallory",
        response_url=fake_slack.response_url("r"),
        timestamp=NOW - age_s,
        secret=secret,
    )
    response = client.post("/slack/actions", content=body, headers=headers)
    assert response.status_code == 401, case
    assert _snapshot(sessions) == before
    assert fake_slack.calls == []


def test_body_tampered_after_signing_is_rejected(
    client: TestClient, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    run_scan(sessions, T0, [failing()])
    body, headers = button_click(
        action_id="alert_ack",
        value="1:1",
        user="alice",
        response_url=fake_slack.response_url("r"),
        timestamp=NOW,
    )
    tampered = body.replace(b"alice", b"mallo")
    assert client.post("/slack/actions", content=tampered, headers=headers).status_code == 401
    assert _snapshot(sessions)[0] == "firing"


def test_second_click_gets_an_ephemeral_notice_naming_the_winner(
    client: TestClient, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    run_scan(sessions, T0, [failing()])
    for user in ("alice", "bob"):
        body, headers = button_click(
            action_id="alert_ack",
            value="1:1",
            user=user,
            response_url=fake_slack.response_url(user),
            timestamp=NOW,
        )
        assert client.post("/slack/actions", content=body, headers=headers).status_code == 200
    [notice] = fake_slack.calls_to("response_url:bob")
    assert notice.params["response_type"] == "ephemeral"
    assert "already acknowledged by alice" in notice.params["text"]
    assert fake_slack.calls_to("response_url:alice") == []
    assert _snapshot(sessions)[:2] == ("acknowledged", "alice")


@pytest.fixture
def served(sessions: sessionmaker[Session], fake_slack: FakeSlack) -> Iterator[str]:
    """The app under a real uvicorn server, its Slack client pointed at the fake Slack."""
    notifier = SlackNotifier(
        # Longer than a click's HTTP timeout: a click that waited for Slack would time out.
        make_client("xoxb-test", base_url=fake_slack.base_url, timeout=int(2 * PATIENCE)),
        interactive=True,
    )
    app = create_app(
        sessions=sessions,
        notifier=notifier,
        clock=Clock(T0),
        settings=ApiSettings(signing_secret=SIGNING_SECRET),
    )
    with serving(app, log_level="error") as url:
        yield url


@pytest.mark.slow
def test_slack_gets_its_answer_while_slack_itself_hangs(
    served: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    """Slack wants the answer within 3 s: it must not wait for any Slack call of ours.

    Every Slack call hangs until the test ends, longer than the click's own HTTP timeout, so
    the click is answered only if nothing waits for Slack, however slow Slack or this machine.
    """
    run_scan(sessions, T0, [failing()])
    slack_answers = threading.Event()
    fake_slack.on_call = lambda call: slack_answers.wait(3 * PATIENCE)
    body, headers = button_click(
        action_id="alert_ack",
        value="1:1",
        user="alice",
        response_url=fake_slack.response_url("r"),
        timestamp=NOW,
    )
    try:
        response = httpx.post(
            f"{served}/slack/actions", content=body, headers=headers, timeout=PATIENCE
        )
        assert response.status_code == 200
        assert _snapshot(sessions)[:2] == ("acknowledged", "alice")
        # The delivery of the change is under way in the background, still waiting for Slack.
        wait_for("a Slack call from the background", lambda: fake_slack.calls)
    finally:
        slack_answers.set()
    wait_for("the message edit once Slack answers", lambda: fake_slack.calls_to("chat.update"))


@pytest.mark.parametrize("alert_id", [999999, -5, 2**31, 2**63])
def test_signed_click_for_an_alert_that_does_not_exist_is_404_and_tells_the_user(
    client: TestClient, sessions: sessionmaker[Session], fake_slack: FakeSlack, alert_id: int
) -> None:
    run_scan(sessions, T0, [failing()])
    before = _snapshot(sessions)
    body, headers = button_click(
        action_id="alert_ack",
        value=f"{alert_id}:1",
        user="mallory",
        response_url=fake_slack.response_url("mallory"),
        timestamp=NOW,
    )
    response = client.post("/slack/actions", content=body, headers=headers)
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == f"alert {alert_id} does not exist"
    assert _snapshot(sessions) == before
    [notice] = fake_slack.calls_to("response_url:mallory")
    assert f"alert {alert_id} does not exist" in str(notice.params)
