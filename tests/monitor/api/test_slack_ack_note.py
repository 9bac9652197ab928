"""Slack "acknowledge with note" (issue 15 item 7): the button opens a dialog (``views.open``
with the click's trigger_id); the signed ``view_submission`` acknowledges with the note."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from monitor.slack.render import render_alert
from monitor.store import Alert
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import T0, failing, run_scan
from tests.monitor.api.conftest import SIGNING_SECRET

NOW = int(T0.timestamp())


def _signed(payload: dict[str, Any], secret: str = SIGNING_SECRET) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    base = b"v0:" + str(NOW).encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "X-Slack-Request-Timestamp": str(NOW),
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return body, headers


def _click(user: str = "alice") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": f"U{user.upper()}", "username": user},
        "trigger_id": "1337.42.abcd",
        "actions": [{"action_id": "alert_ack_note", "value": "1:1", "type": "button"}],
        "response_url": "https://hooks.slack.invalid/r1",
    }


def _submission(note: str, user: str = "alice", metadata: str = "1") -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": f"U{user.upper()}", "username": user},
        "view": {
            "callback_id": "alert_ack_note",
            "private_metadata": metadata,
            "state": {"values": {"note": {"note": {"type": "plain_text_input", "value": note}}}},
        },
    }


def _alert(sessions: sessionmaker[Session]) -> Alert:
    with sessions() as session:
        return session.get_one(Alert, 1)


def test_button_opens_the_note_dialog_and_changes_nothing(
    client: TestClient, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    run_scan(sessions, T0, [failing()])
    body, headers = _signed(_click())
    response = client.post("/slack/actions", content=body, headers=headers)
    assert response.status_code == 200, response.text
    [opened] = fake_slack.calls_to("views.open")
    assert opened.params["trigger_id"] == "1337.42.abcd"
    view = (
        json.loads(opened.params["view"])
        if isinstance(opened.params["view"], str)
        else opened.params["view"]
    )
    assert (view["callback_id"], view["private_metadata"]) == ("alert_ack_note", "1")
    assert "churn: accuracy" in json.dumps(view["blocks"])
    assert _alert(sessions).state == "firing"


def test_submitted_note_acknowledges_with_it_and_edits_the_message(
    client: TestClient, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    run_scan(sessions, T0, [failing()])
    body, headers = _signed(_submission("  retraining tonight  "))
    response = client.post("/slack/actions", content=body, headers=headers)
    assert (response.status_code, response.content) == (200, b"")  # closes the dialog
    alert = _alert(sessions)
    assert (alert.state, alert.acked_by, alert.ack_note) == (
        "acknowledged",
        "alice",
        "retraining tonight",
    )
    edits = fake_slack.calls_to("chat.update")
    assert "acknowledged by alice" in str(edits[-1].params["blocks"])
    assert "retraining tonight" in str(edits[-1].params["blocks"])
    replies = [c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" in c.params]
    assert "Acknowledged by alice: retraining tonight" in str(replies[-1].params["text"])


def test_a_late_submission_is_told_who_acknowledged_first_in_the_dialog(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing()])
    for user in ("alice", "bob"):
        body, headers = _signed(_submission("mine", user=user))
        response = client.post("/slack/actions", content=body, headers=headers)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "already acknowledged by alice" in answer["errors"]["note"]
    assert _alert(sessions).acked_by == "alice"


def test_unsigned_or_forged_submissions_change_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing()])
    body, headers = _signed(_submission("forged"), secret="not-the-secret")
    assert client.post("/slack/actions", content=body, headers=headers).status_code == 401
    body, headers = _signed(_submission("x", metadata="one"))
    bad = client.post("/slack/actions", content=body, headers=headers)
    assert bad.status_code == 400 and "malformed dialog metadata" in bad.json()["detail"]
    assert _alert(sessions).state == "firing"


def test_the_note_button_is_on_firing_alerts_only(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [failing()])
    alert = _alert(sessions)
    assert "alert_ack_note" in json.dumps(render_alert(alert, interactive=True).blocks)
    alert.state = "acknowledged"
    assert "alert_ack_note" not in json.dumps(render_alert(alert, interactive=True).blocks)
