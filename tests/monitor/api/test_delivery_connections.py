"""An action's Slack delivery runs after the response and holds no pooled DB connection."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.api.app import ApiSettings, create_app
from monitor.slack.transport import SlackNotifier, make_client
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import T0, failing, run_scan
from tests.monitor.alerts.test_delivery_claims import _PoolWatcher
from tests.monitor.api.conftest import API_TOKEN, Clock, auth


def test_ack_over_the_api_edits_slack_with_no_connection_checked_out(
    sessions: sessionmaker[Session], engine: Engine, fake_slack: FakeSlack
) -> None:
    slack = SlackNotifier(make_client("xoxb-test", base_url=fake_slack.base_url), interactive=True)
    watcher = _PoolWatcher(slack, engine)
    app = create_app(
        sessions=sessions,
        settings=ApiSettings(token=API_TOKEN),
        notifier=watcher,
        clock=Clock(T0),
    )
    run_scan(sessions, T0, [failing()])
    with TestClient(app) as client:
        response = client.post("/api/alerts/1/ack", json={"by": "alice"}, headers=auth())
    assert response.status_code == 200
    assert [c.method for c in fake_slack.calls] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
    ]
    assert watcher.checked_out == [0, 0, 0]
