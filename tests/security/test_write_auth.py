"""Every state-changing route in the API's OpenAPI schema needs the API token, so a write
route added later cannot slip by. (/slack/actions, outside the schema, is checked by its
signature: tests/monitor/api/test_slack_actions.py.)"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from monitor.store import Alert, AlertEvent
from tests.monitor.alerts.conftest import T0, failing, run_scan
from tests.monitor.api.conftest import auth

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
SIGNED_BY_SLACK = {"/slack/actions"}  # authenticated by its signature instead


def _write_paths(client: TestClient) -> list[tuple[str, str]]:
    found = []
    for template, operations in client.get("/openapi.json").json()["paths"].items():
        for method in sorted({m.upper() for m in operations} & WRITES):
            if template not in SIGNED_BY_SLACK:
                path = re.sub(r"\{alert_id\}", "1", template)
                found += [(method, re.sub(r"\{action\}", a, path)) for a in _actions(path)]
    return found


def _actions(path: str) -> list[str]:
    return ["ack", "unack", "snooze", "resolve"] if "{action}" in path else [""]


def _snapshot(sessions: sessionmaker[Session]) -> tuple[str, int]:
    with sessions() as session:
        alert = session.get_one(Alert, 1)
        return alert.state, session.query(AlertEvent).count()


def test_every_write_route_refuses_a_missing_or_wrong_token_and_changes_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing()])
    before = _snapshot(sessions)
    writes = _write_paths(client)
    assert ("POST", "/api/alerts/1/ack") in writes
    body = {"by": "mallory", "for": "1h"}
    for method, path in writes:
        for headers in ({}, auth("wrong"), {"Authorization": "Basic bWFsbG9yeTp4"}):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers)
    assert _snapshot(sessions) == before
    assert client.post("/api/alerts/1/ack", json=body, headers=auth()).status_code == 200
