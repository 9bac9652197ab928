"""Fixtures for the dashboard tests: the API on a real state DB with stored, judged scans."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.wiring import evaluate_stored_scan
from monitor.api.app import ApiSettings, create_app
from monitor.config import Config
from monitor.store import CheckResult, Scan, make_sessionmaker, migrate
from tests.monitor.scancore.conftest import day, make_config, model_dict

API_TOKEN = "write-token"
READ_TOKEN = "read-token"
NOW = day(6) + timedelta(hours=1)
THRESHOLDS = [{"metric": "accuracy", "min": 0.8, "severity": "critical"}]


@pytest.fixture
def migrated(db_url: str) -> str:
    migrate.upgrade(db_url)
    return db_url


@pytest.fixture
def config(migrated: str) -> Config:
    eta = model_dict(name="eta", checks={"thresholds": THRESHOLDS})
    return make_config(migrated, model_dict(checks={"thresholds": THRESHOLDS}), eta)


@pytest.fixture
def sessions(migrated: str, engine: Any) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def store_scan(
    sessions: sessionmaker[Session], config: Config, end_day: int, accuracy: float, age: float
) -> int:
    """A scan of 'churn' with accuracy and drift:age results, judged by the alert layer."""
    end = day(end_day)
    scan = Scan(
        model="churn",
        window_start=end - timedelta(days=1),
        window_end=end,
        reference={"kind": "between"},
        rows_reference=480,
        rows_live=480,
        rows_labelled=400,
        config_hash="h",
        status="ok" if accuracy >= 0.8 else "failed",
        started_at=end,
        finished_at=end,
        metrics={"performance": {"accuracy": {"value": accuracy, "baseline": 0.86}}},
    )
    failed = accuracy < 0.8
    scan.results.extend(
        [
            CheckResult(
                check="accuracy",
                method="min",
                value=accuracy,
                threshold=0.8,
                passed=not failed,
                severity="critical" if failed else None,
                details={},
            ),
            CheckResult(
                check="drift:age", method="ks", value=age, threshold=0.05, passed=age >= 0.05
            ),
        ]
    )
    with sessions() as session:
        session.add(scan)
        session.flush()
        model = config.model("churn")
        evaluate_stored_scan(session=session, scan=scan, model=model, config=config, now=end)
        session.commit()
        return scan.id


@pytest.fixture
def make_client(sessions: sessionmaker[Session], config: Config) -> Iterator[Any]:
    clients: list[TestClient] = []

    def build(**settings: Any) -> TestClient:
        app = create_app(
            sessions=sessions,
            settings=ApiSettings(token=API_TOKEN, **settings),
            config=config,
            clock=lambda: NOW,
        )
        clients.append(TestClient(app).__enter__())
        return clients[-1]

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's logs and scans, generated once per session (about 15 s)."""
    from monitor.demo.run import run_demo

    directory = tmp_path_factory.mktemp("demo")
    run_demo(directory, echo=lambda _line: None)
    return directory
