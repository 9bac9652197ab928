"""``POST /pagerduty/webhook``: a signed v3 webhook acks and resolves the alert here."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from monitor.api.app import ApiSettings, create_app
from monitor.config import parse_config
from monitor.notifiers.words import alert_key
from monitor.store import Alert, AlertEvent
from tests.monitor.alerts.conftest import HOUR, T0, failing, run_scan
from tests.monitor.alerts.test_integrations import MODEL

SECRET = "pd-webhook-secret"


def _config(secret: str | None = SECRET) -> Any:
    target: dict[str, Any] = {"routing_key": "PDKEY"}
    if secret:
        target["webhook_secret"] = secret
    tree = {
        "sources": {"prod": {"url": "sqlite://"}},
        "notify": [{"pagerduty": target, "severities": ["critical"]}],
        "models": [MODEL],
    }
    return parse_config(tree, file="monitor.yaml")


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(
        sessions=sessions, settings=ApiSettings(), clock=lambda: T0 + HOUR, config=_config()
    )
    with TestClient(app) as client:
        yield client


def _webhook(kind: str, key: str, who: str = "Alice Example") -> bytes:
    event = {
        "event": {
            "id": "01DEN4HPBQAAAG05V5QQYBRZMF",
            "event_type": f"incident.{kind}",
            "resource_type": "incident",
            "occurred_at": "2026-11-24T10:00:00.000Z",
            "agent": {"id": "PLH1HKV", "summary": who, "type": "user_reference"},
            "data": {"id": "PGR0VU2", "type": "incident", "status": kind, "incident_key": key},
        }
    }
    return json.dumps(event).encode()


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-PagerDuty-Signature": f"v1=deadbeef,v1={digest}", "Content-Type": "application/json"}


def _post(client: TestClient, body: bytes, headers: dict[str, str] | None = None) -> int:
    sent = client.post(
        "/pagerduty/webhook", content=body, headers=_signed(body) if headers is None else headers
    )
    return int(sent.status_code)


def _alert(sessions: sessionmaker[Session]) -> tuple[Alert, int]:
    with sessions() as session:
        alert = session.get_one(Alert, 1)
        return alert, session.query(AlertEvent).filter_by(alert_id=1).count()


def test_an_acknowledgement_in_pagerduty_acknowledges_the_alert_as_the_pd_user(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing(severity="critical")])
    key = alert_key(_alert(sessions)[0])
    body = _webhook("acknowledged", key)
    assert _post(client, body) == 200
    alert, events = _alert(sessions)
    assert (alert.state, alert.acked_by, events) == ("acknowledged", "pagerduty:Alice Example", 2)
    # Our own acknowledgement coming back from PagerDuty changes nothing.
    again = _webhook("acknowledged", key, who="Bob")
    assert _post(client, again) == 200
    assert _alert(sessions)[0].acked_by == "pagerduty:Alice Example" and _alert(sessions)[1] == 2
    done = _webhook("resolved", key, who="Bob")
    assert _post(client, done) == 200
    alert, events = _alert(sessions)
    assert (alert.state, alert.resolved_by, events) == ("resolved", "pagerduty:Bob", 3)


def test_a_bad_signature_is_401_and_changes_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing(severity="critical")])
    body = _webhook("acknowledged", alert_key(_alert(sessions)[0]))
    for headers in ({}, _signed(body, secret="wrong"), _signed(body + b" ")):
        assert _post(client, body, headers) == 401
    assert _alert(sessions)[0].state == "firing"


def test_incidents_that_are_not_ours_are_answered_and_ignored(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing(severity="critical")])
    real = alert_key(_alert(sessions)[0])
    for key in ("srv01/HTTP", real.replace(real[-12:], "0" * 12), "monitor-alert-99-" + "a" * 12):
        body = _webhook("resolved", key)
        assert _post(client, body) == 200
    assert _alert(sessions)[0].state == "firing"


def test_without_a_webhook_secret_the_endpoint_is_not_there(
    sessions: sessionmaker[Session],
) -> None:
    app = create_app(sessions=sessions, settings=ApiSettings(), config=_config(secret=None))
    with TestClient(app) as client:
        body = _webhook("acknowledged", "x")
        assert _post(client, body) == 404
