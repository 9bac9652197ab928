"""``/api/models`` keeps the history it read between requests, and never shows it stale.

Every change below is made the way another process makes it (the CLI, a scheduler replica):
in its own session, committed, not through the app. Each answer is compared with the report
read from scratch at the same moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge
from monitor.alerts.maintenance import plan_maintenance
from monitor.api.app import ApiSettings, create_app
from monitor.config import Config
from monitor.status import status_report
from monitor.store import Alert, Scan
from tests.monitor.dashboard.conftest import NOW, store_scan


@pytest.fixture
def client(make_client: Any, sessions: sessionmaker[Session], config: Config) -> TestClient:
    for n, (accuracy, age) in enumerate([(0.86, 0.4), (0.84, 0.3), (0.74, 0.2)]):
        store_scan(sessions, config, n + 1, accuracy, age)
    client: TestClient = make_client()
    return client


def _fresh(sessions: sessionmaker[Session], config: Config, now: datetime = NOW) -> dict[str, Any]:
    with sessions() as session:
        return status_report(config, session=session, now=now).as_json()


def _churn(body: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in body["models"] if m["name"] == "churn")


def test_the_history_is_read_once_while_nothing_changes(
    client: TestClient, sessions: sessionmaker[Session], config: Config
) -> None:
    answers = [client.get(path).json() for path in ("/api/models", "/api/models/churn") * 2]
    assert answers[0] == answers[2] == _fresh(sessions, config)
    assert answers[1] == answers[3] == _churn(answers[0])
    assert client.app.state.status_cache.reads == 1  # type: ignore[attr-defined]


def test_a_new_scan_shows_on_the_next_request(
    client: TestClient, sessions: sessionmaker[Session], config: Config
) -> None:
    before = _churn(client.get("/api/models").json())
    new = store_scan(sessions, config, 4, 0.86, 0.5)
    body = client.get("/api/models").json()
    assert before["last_scan"]["id"] != new
    assert _churn(body)["last_scan"]["id"] == new
    assert body == _fresh(sessions, config)


def test_an_acknowledgement_from_another_process_shows_on_the_next_request(
    client: TestClient, sessions: sessionmaker[Session], config: Config
) -> None:
    assert _churn(client.get("/api/models").json())["alerts"]["unacknowledged"] == 1
    with sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.model == "churn")).one()
        acknowledge(session=session, alert_id=alert.id, by="ana", now=NOW)
        session.commit()
    body = client.get("/api/models").json()
    assert _churn(body)["alerts"]["unacknowledged"] == 0
    fresh = _churn(_fresh(sessions, config))
    assert client.get("/api/models/churn").json() == _churn(body) == fresh


def test_a_rerun_of_the_latest_window_that_stores_no_results_shows(
    client: TestClient, sessions: sessionmaker[Session], config: Config
) -> None:
    """A re-run keeps the scan's id; one ending in error stores no results: nothing the
    marker reads by id moves, only the latest scan's finish time."""
    with sessions() as session:
        scan = session.scalars(select(Scan).order_by(Scan.window_end.desc())).first()
        assert scan is not None
        scan.results.clear()
        scan.status, scan.error = "error", "source unreachable"
        session.commit()
    assert _churn(client.get("/api/models").json())["last_scan"]["error"] == "source unreachable"
    with sessions() as session:
        scan = session.get(Scan, scan.id)
        assert scan is not None
        scan.error, scan.finished_at = "permission denied", scan.finished_at + timedelta(hours=1)
        session.commit()
    body = client.get("/api/models").json()
    assert _churn(body)["last_scan"]["error"] == "permission denied"
    assert body == _fresh(sessions, config)


def test_a_maintenance_window_shows_without_a_scan(
    client: TestClient, sessions: sessionmaker[Session], config: Config
) -> None:
    assert _churn(client.get("/api/models").json())["maintenance"] is None
    with sessions() as session:
        plan_maintenance(
            session=session,
            model="churn",
            starts_at=NOW - timedelta(minutes=5),
            ends_at=NOW + timedelta(hours=2),
            by="ana",
            reason="retraining",
            now=NOW,
        )
        session.commit()
    body = client.get("/api/models").json()
    assert _churn(body)["maintenance"]["reason"] == "retraining"
    assert body == _fresh(sessions, config)


def test_the_clock_alone_moves_health_and_next_scan(
    client: TestClient, sessions: sessionmaker[Session], config: Config
) -> None:
    """Staleness and the next scan come from the clock: no write, no re-read, a new answer."""
    times = [NOW]
    app = create_app(
        sessions=sessions, settings=ApiSettings(), config=config, clock=lambda: times[0]
    )
    with TestClient(app) as moving:
        first = _churn(moving.get("/api/models").json())
        times[0] = NOW + timedelta(days=5)
        later = moving.get("/api/models").json()
        assert app.state.status_cache.reads == 1
    assert later == _fresh(sessions, config, times[0])
    assert _churn(later)["reason"].startswith("stale: no successful scan since")
    assert (_churn(later)["health"], _churn(later)["next_scan"]) != (
        first["health"],
        first["next_scan"],
    )


def test_an_estimate_and_its_realised_value_show_on_the_next_request(
    client: TestClient, sessions: sessionmaker[Session], config: Config
) -> None:
    from monitor.store import PerformanceEstimate

    assert _churn(client.get("/api/models").json())["estimates"] is None
    end = NOW - timedelta(days=1)
    with sessions() as session:
        session.add(
            PerformanceEstimate(
                model="churn", metric="accuracy", window_start=end - timedelta(days=1),
                window_end=end, estimated=0.78, lower=0.76, upper=0.80, sampling_error=0.0067,
                rows=4_000, how="CBPE",
            )
        )  # fmt: skip
        session.commit()
    body = client.get("/api/models").json()
    assert _churn(body)["estimates"] is not None
    assert body == _fresh(sessions, config)
    with sessions() as session:  # the labels arrive: a later scan fills in the realised value
        row = session.scalars(select(PerformanceEstimate)).one()
        row.realised, row.labelled = 0.79, 3_900
        session.commit()
    body = client.get("/api/models").json()
    assert body == _fresh(sessions, config)
    assert "0.79" in str(_churn(body)["estimates"])
