"""Secrets reach Slack and the databases, and nowhere else: not the CLI's output or errors,
not the logs, not any API response. Distinctive values are set in the environment, every
surface is exercised, and every captured byte is searched for them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from monitor.api.app import create_app, settings_from_config
from monitor.cli import main
from monitor.config import load_config
from monitor.slack import transport
from monitor.store import make_engine, make_sessionmaker, migrate
from tests.fakes.slack import FakeSlack
from tests.monitor.scancore.conftest import T0, log_frame, write

BOT = "xoxb-SECRETbot-7f3a9e"
SIGNING = "SECRETsigning-9c1d0b"
API = "SECRETapi-4e2b77"
PASSWORD = "SECRETpw5d1c"
SECRETS = (BOT, SIGNING, API, PASSWORD)

CONFIG = """
state_db: "{state_db}"
sources:
  logs: {{url: "{source}"}}
  offline: {{url: "postgresql+psycopg://reader:${{DB_PASSWORD}}@127.0.0.1:1/nowhere"}}
slack:
  token: "${{SLACK_BOT_TOKEN}}"
  signing_secret: "${{SLACK_SIGNING_SECRET}}"
  channel: "#ml-alerts"
api: {{token: "${{MONITOR_API_TOKEN}}", public_url: "https://monitor.example.com"}}
models:
  - name: churn
    source: logs
    table: preds
    timestamp: ts
    features: {{numerical: [age, income], categorical: [plan]}}
    prediction: pred
    target: label
    reference: {{between: ["2026-03-01", "2026-03-02"]}}
    window: 1d
    schedule: {{every: 1d}}
    checks:
      thresholds: [{{metric: accuracy, min: 0.99, severity: critical}}]
"""
BROKEN_MODEL = """
  - name: broken
    source: offline
    table: preds
    timestamp: ts
    features: {numerical: [age]}
    prediction: pred
    reference: {previous: 1d}
    window: 1d
    schedule: {every: 1d}
"""


def _with_password(url: str) -> str:
    """The test database's URL carrying a password (PostgreSQL here trusts and ignores it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.set(password=PASSWORD).render_as_string(hide_password=False)


@pytest.fixture
def fake_slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    real = transport.make_client
    with FakeSlack().running() as fake:
        monkeypatch.setattr(
            transport, "make_client", lambda token, **kw: real(token, base_url=fake.base_url)
        )
        yield fake


@pytest.fixture
def config_file(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in [
        ("SLACK_BOT_TOKEN", BOT),
        ("SLACK_SIGNING_SECRET", SIGNING),
        ("MONITOR_API_TOKEN", API),
        ("DB_PASSWORD", PASSWORD),
    ]:
        monkeypatch.setenv(name, value)
    engine = make_engine(db_url)
    write(engine, log_frame(T0, 72), "preds")
    engine.dispose()
    url = _with_password(db_url).replace("%", "%%")
    path = tmp_path / "monitor.yaml"
    path.write_text(CONFIG.format(state_db=url, source=url))
    return path


Run = Callable[..., str]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str, code: int = 0) -> str:
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        out = capsys.readouterr()
        assert exited.value.code == code, out.err
        return out.out + out.err

    return run


def _cli_outputs(config_file: Path, run: Run) -> list[str]:
    c = ["-c", str(config_file)]
    outputs = [run("db", "upgrade", *c), run("config", "check", *c)]
    broken = config_file.with_name("broken.yaml")
    broken.write_text(config_file.read_text() + BROKEN_MODEL)
    outputs.append(run("config", "check", "-c", str(broken), code=2))
    invalid = config_file.with_name("invalid.yaml")
    invalid.write_text(config_file.read_text().replace('channel: "#ml-alerts"', "channel: [1]"))
    outputs.append(run("config", "check", "-c", str(invalid), code=2))
    outputs.append(run("scan", "--at", "2026-03-03T00:00:00Z", *c))
    outputs.append(run("scan", "--at", "2026-03-04T00:00:00Z", "--json", *c))
    outputs += [run("status", "--json", *c), run("alerts", "--state", "all", "--json", *c)]
    return outputs


def _api_outputs(config_file: Path) -> list[str]:
    config = load_config(config_file)
    engine = make_engine(config.state_db)
    app = create_app(
        sessions=make_sessionmaker(engine),
        settings=settings_from_config(config),
        config=config,
    )
    bearer = {"Authorization": f"Bearer {API}x"}
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            alert_id = client.get("/api/alerts").json()["alerts"][0]["id"]
            responses = [client.get(path) for path in _READ_PATHS]
            responses.append(client.post(f"/api/alerts/{alert_id}/ack", json={"by": "x"}))
            responses.append(
                client.post(f"/api/alerts/{alert_id}/ack", json={"by": "x"}, headers=bearer)
            )
            responses.append(client.post("/slack/actions", content=b"payload=%7B%7D"))
    finally:
        engine.dispose()
    return [f"{r.status_code} {r.headers} {r.text}" for r in responses]


_READ_PATHS = [
    "/",
    "/api/models",
    "/api/models/churn",
    "/api/models/churn/scans",
    "/api/models/nope",
    "/api/alerts?state=all",
    "/api/alerts/999999",
    "/metrics",
    "/healthz",
    "/readyz",
    "/openapi.json",
]


def test_no_secret_appears_in_any_output_log_or_response(
    config_file: Path, fake_slack: FakeSlack, run_cli: Run, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail_next("chat.postMessage", error="invalid_auth")
    caplog.set_level(logging.DEBUG)
    outputs = _cli_outputs(config_file, run_cli) + _api_outputs(config_file)
    outputs.append(caplog.text)
    outputs += [str(row) for row in _notification_errors(config_file)]

    assert "config OK" in outputs[1] and "broken" in outputs[2] and "channel" in outputs[3]
    assert '"churn"' in outputs[5]  # the scan really ran and reported
    posted = fake_slack.calls_to("chat.postMessage")
    assert posted and all(BOT in c.headers.get("Authorization", "") for c in posted)
    leaks = [(secret, text[:200]) for text in outputs for secret in SECRETS if secret in text]
    assert leaks == []


def _notification_errors(config_file: Path) -> list[Any]:
    import sqlalchemy as sa

    engine = make_engine(load_config(config_file).state_db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT last_error FROM notification")).all()
            events = conn.execute(sa.text("SELECT * FROM alert_event")).all()
            scans = conn.execute(sa.text("SELECT error FROM scan")).all()
    finally:
        engine.dispose()
    assert migrate.current(load_config(config_file).state_db)
    return [*rows, *events, *scans]
