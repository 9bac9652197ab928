"""``/api/maintenance``: plan, list and cancel maintenance windows over HTTP (issue 15 item 6);
the model's status shows the window in force."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.maintenance import cancel_maintenance, plan_maintenance
from monitor.config.schema import ModelConfig
from monitor.status import model_status
from tests.monitor.alerts.conftest import HOUR, T0
from tests.monitor.api.conftest import auth

PLAN = {"model": "churn", "from": "2026-11-24T10:00Z", "to": "2026-11-24T12:00Z", "by": "ops"}


def test_plan_list_and_cancel_a_window(client: TestClient) -> None:
    made = client.post("/api/maintenance", json={**PLAN, "reason": "retraining"}, headers=auth())
    assert made.status_code == 200, made.text
    window = made.json()
    assert (window["starts_at"], window["ends_at"], window["active"]) == (
        "2026-11-24T10:00:00Z",
        "2026-11-24T12:00:00Z",
        False,
    )
    listed = client.get("/api/maintenance", params={"model": "churn"}).json()["windows"]
    assert [w["id"] for w in listed] == [window["id"]]
    cancelled = client.post(
        f"/api/maintenance/{window['id']}/cancel", json={"by": "ana"}, headers=auth()
    )
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_by"] == "ana"
    assert client.get("/api/maintenance").json()["windows"] == []
    again = client.post(
        f"/api/maintenance/{window['id']}/cancel", json={"by": "ana"}, headers=auth()
    )
    assert again.status_code == 409 and "already ended" in again.json()["detail"]


def test_writes_need_the_token_and_bad_input_is_named(client: TestClient) -> None:
    assert client.post("/api/maintenance", json=PLAN).status_code == 401
    backwards = {**PLAN, "to": "2026-11-24T09:30Z"}
    refused = client.post("/api/maintenance", json=backwards, headers=auth())
    assert refused.status_code == 422 and "model 'churn'" in refused.json()["detail"]
    bad_time = client.post("/api/maintenance", json={**PLAN, "to": "soon"}, headers=auth())
    assert bad_time.status_code == 422 and bad_time.json()["detail"].startswith("to:")
    missing = client.post("/api/maintenance/77/cancel", json={"by": "ana"}, headers=auth())
    assert missing.status_code == 404


def test_model_status_shows_the_window_in_force(sessions: sessionmaker[Session]) -> None:
    model = ModelConfig.model_validate(
        {
            "name": "churn",
            "source": "s",
            "table": "t",
            "timestamp": "ts",
            "prediction": "p",
            "reference": {"previous": "7d"},
        }
    )
    with sessions() as session:
        plan_maintenance(
            session=session,
            model="churn",
            starts_at=T0,
            ends_at=T0 + 2 * HOUR,
            by="ops",
            reason="retraining",
            now=T0,
        )
        session.commit()
        during = model_status(model, session=session, now=T0 + HOUR).maintenance
        after = model_status(model, session=session, now=T0 + 2 * HOUR + timedelta(seconds=1))
    assert during is not None and (during.active, during.reason) == (True, "retraining")
    assert after.maintenance is None


def test_model_status_drops_a_window_once_it_is_cancelled(
    sessions: sessionmaker[Session],
) -> None:
    model = ModelConfig.model_validate(
        {
            "name": "churn",
            "source": "s",
            "table": "t",
            "timestamp": "ts",
            "prediction": "p",
            "reference": {"previous": "7d"},
        }
    )
    with sessions() as session:
        window = plan_maintenance(
            session=session,
            model="churn",
            starts_at=T0,
            ends_at=T0 + 4 * HOUR,
            by="ops",
            reason="retraining",
            now=T0,
        )
        cancel_maintenance(session=session, window_id=window.id, by="ana", now=T0 + HOUR)
        session.commit()
        # inside the planned window (kept as planned) but after the cancel
        shown = model_status(model, session=session, now=T0 + 2 * HOUR).maintenance
    assert shown is None
