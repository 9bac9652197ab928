"""Request bodies are capped before anything reads them (issue 12, item 7): a body over
``api.max_body`` (default 1 MiB; ``/slack/actions`` 64 KiB) is a 413, before authentication,
whether it declares its length or is streamed in chunks."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from monitor.api.app import ApiSettings, create_app, create_ops_app, settings_from_config
from monitor.config import parse_config
from monitor.errors import ConfigError
from tests.monitor.alerts.conftest import T0, failing, run_scan
from tests.monitor.api.conftest import Clock, auth

MIB = 1024 * 1024


def _state(client: TestClient) -> str:
    return str(client.get("/api/alerts/1").json()["state"])


def test_an_unauthenticated_body_over_the_limit_is_413_not_401(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing()])
    big = b'{"by": "' + b"x" * (2 * MIB) + b'"}'
    response = client.post("/api/alerts/1/ack", content=big)
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"request body larger than {MIB} bytes"
    assert client.post("/api/alerts/1/ack", content=big, headers=auth()).status_code == 413
    assert _state(client) == "firing"


def test_a_chunked_body_over_the_limit_is_413(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing()])

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count
        yield b'{"by": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = client.post("/api/alerts/1/ack", content=chunks(), headers=auth())
    assert response.status_code == 413, response.text
    assert _state(client) == "firing"


def test_slack_actions_are_capped_at_64_kib(client: TestClient) -> None:
    body = b"payload=" + b"x" * (64 * 1024)
    response = client.post(
        "/slack/actions",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "request body larger than 65536 bytes"


def test_a_body_under_a_configured_limit_reaches_authentication(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    app = create_app(sessions=sessions, settings=ApiSettings(token="t", max_body=10_000))
    with TestClient(app) as client:
        small = b'{"by": "' + b"x" * 5_000 + b'"}'
        assert client.post("/api/alerts/1/ack", content=small).status_code == 401
        large = b'{"by": "' + b"x" * 20_000 + b'"}'
        assert client.post("/api/alerts/1/ack", content=large).status_code == 413
        ok = client.post("/api/alerts/1/ack", json={"by": "alice"}, headers=auth("t"))
        assert ok.status_code == 200 and _state(client) == "acknowledged"


def test_the_ops_app_caps_bodies_too(sessions: sessionmaker[Session]) -> None:
    with TestClient(create_ops_app(sessions=sessions)) as client:
        assert client.post("/healthz", content=b"x" * (2 * MIB)).status_code == 413


def test_max_body_is_read_from_the_config() -> None:
    config = parse_config({"api": {"max_body": "64KiB"}}, file="m.yaml")
    assert settings_from_config(config).max_body == 65536
    assert settings_from_config(parse_config({}, file="m.yaml")).max_body == MIB
    with pytest.raises(ConfigError, match=r"api\.max_body"):
        parse_config({"api": {"max_body": "lots"}}, file="m.yaml")
    with pytest.raises(ConfigError, match=r"api\.max_body"):
        parse_config({"api": {"max_body": 0}}, file="m.yaml")


@pytest.fixture
def served(sessions: sessionmaker[Session]) -> Iterator[int]:
    app = create_app(sessions=sessions, settings=ApiSettings(token="t"), clock=Clock(T0))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # a readiness signal, not a guess
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield int(port)
    server.should_exit = True
    thread.join(timeout=15)


def test_a_declared_300_mb_body_is_refused_before_any_of_it_is_sent(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=60) as sock:
        # Only the headers: the old server waited here for 300 MB it would have buffered.
        sock.sendall(
            b"POST /api/alerts/1/ack HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n"
        )
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "request body larger than 1048576 bytes" in answer
