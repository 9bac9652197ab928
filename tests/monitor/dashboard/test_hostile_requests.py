"""Requests an attacker or a broken client sends: ids outside the key range, a state DB that is
down or has no free connection. Each gets a 4xx or a 503 that says what is wrong, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from monitor.api.app import ApiSettings, create_app
from monitor.config import Config
from monitor.store import make_engine, make_sessionmaker
from tests.monitor.dashboard.conftest import API_TOKEN, NOW, store_scan

OUT_OF_RANGE = [2**31, 2**63, 999999, 0, -5]
PASSWORD = "SECRETpw-41d"


def _id_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every route of the schema with an integer path parameter."""
    schema = client.get("/openapi.json").json()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            ints = [p for p in params if p["in"] == "path" and p["schema"].get("type") == "integer"]
            if ints:
                found.append((method.upper(), path))
    return found


def _fill(template: str, value: int) -> str:
    path = re.sub(r"\{[a-z_]*id\}", str(value), template)
    return re.sub(r"\{action\}", "ack", path)


def test_every_route_with_an_id_answers_404_for_an_id_outside_the_key_range(
    make_client: Any, sessions: sessionmaker[Session], config: Config
) -> None:
    store_scan(sessions, config, 2, accuracy=0.7, age=0.5)  # a real scan and alert exist
    client = make_client()
    routes = _id_routes(client)
    assert {p for _m, p in routes} >= {
        "/api/scans/{scan_id}",
        "/api/alerts/{alert_id}",
        "/api/alerts/{alert_id}/{action}",
        "/reports/{scan_id}.html",
    }
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    for method, template in routes:
        for value in OUT_OF_RANGE:
            path = _fill(template, value)
            response = client.request(method, path, json={"by": "mallory"}, headers=headers)
            assert response.status_code == 404, (method, path, response.text)
            assert str(value) in response.json()["detail"]


@pytest.fixture
def down_sessions(backend: str, db_url: str, tmp_path: Any) -> Iterator[sessionmaker[Session]]:
    """Sessions on a state DB that cannot be reached (nothing listens / not a database)."""
    if backend == "sqlite":
        folder = tmp_path / "down.db"
        folder.mkdir()
        url = f"sqlite:///{folder}"
    else:
        parsed = make_url(db_url).set(password=PASSWORD, host="127.0.0.1", port=1)
        url = parsed.render_as_string(hide_password=False)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


READS = [
    "/api/models",
    "/api/models/churn",
    "/api/models/churn/scans",
    "/api/models/churn/checks/accuracy/history",
    "/api/scans/1",
    "/api/alerts",
    "/api/alerts/1",
    "/reports/1.html",
    "/metrics",
]


def test_reads_and_writes_answer_503_while_the_state_db_is_down(
    down_sessions: sessionmaker[Session], config: Config
) -> None:
    app = create_app(
        sessions=down_sessions,
        settings=ApiSettings(token=API_TOKEN),
        config=config,
        clock=lambda: NOW,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in READS:
            response = client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.json()["detail"].startswith("state DB unavailable"), path
            assert PASSWORD not in response.text
            assert response.headers["retry-after"].isdigit()
        write = client.post(
            "/api/alerts/1/ack", json={"by": "x"}, headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        assert write.status_code == 503, write.text
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503


def test_reads_answer_503_when_no_connection_is_free_in_the_pool(
    db_url: str, migrated: str, config: Config, sessions: sessionmaker[Session]
) -> None:
    store_scan(sessions, config, 2, accuracy=0.7, age=0.5)
    engine = make_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    app = create_app(
        sessions=make_sessionmaker(engine),
        settings=ApiSettings(token=API_TOKEN),
        config=config,
        clock=lambda: NOW,
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/api/alerts").status_code == 200
            with engine.connect():  # the only connection, held: the pool is exhausted
                for path in ("/api/alerts", "/api/scans/1", "/api/models"):
                    response = client.get(path)
                    assert response.status_code == 503, (path, response.text)
                    assert "no free connection" in response.json()["detail"]
            assert client.get("/api/alerts").status_code == 200  # and it recovers
    finally:
        engine.dispose()
