"""Fixtures for the API tests: an app on the per-test database, with a fake Slack behind it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.api.app import ApiSettings, create_app
from monitor.slack.transport import SlackNotifier, make_client
from monitor.store import Base, make_sessionmaker
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import T0

API_TOKEN = "api-token-1"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    Base.metadata.create_all(engine)
    return make_sessionmaker(engine)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack().running() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def client(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, clock: Clock
) -> Iterator[TestClient]:
    notifier = SlackNotifier(
        make_client("xoxb-test", base_url=fake_slack.base_url), interactive=True
    )
    app = create_app(
        sessions=sessions,
        settings=ApiSettings(token=API_TOKEN, signing_secret=SIGNING_SECRET),
        notifier=notifier,
        clock=clock,
    )
    with TestClient(app) as test_client:
        yield test_client


def auth(token: str = API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def button_click(
    *,
    action_id: str,
    value: str,
    user: str,
    response_url: str,
    timestamp: int,
    secret: str = SIGNING_SECRET,
) -> tuple[bytes, dict[str, str]]:
    """A block_actions request as Slack sends it: form-encoded payload, signed (Slack's recipe)."""
    payload = {
        "type": "block_actions",
        "user": {"id": f"U{user.upper()}", "username": user},
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
        "response_url": response_url,
        "channel": {"id": "CML_ALERTS"},
        "container": {"message_ts": "1700000001.000100"},
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    base = b"v0:" + str(timestamp).encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return body, headers
