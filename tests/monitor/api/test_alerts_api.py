"""HTTP API for alerts: reads, and actions guarded by the bearer token."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.policy import AlertPolicy
from monitor.api.app import ApiSettings, create_app
from monitor.store import Alert, AlertEvent
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import T0, failing, run_scan
from tests.monitor.api.conftest import auth


def _state(sessions: sessionmaker[Session], alert_id: int = 1) -> tuple[str, int]:
    with sessions() as session:
        alert = session.get_one(Alert, alert_id)
        events = session.query(AlertEvent).filter_by(alert_id=alert_id).count()
        return alert.state, events


def test_actions_without_the_bearer_token_get_401_and_change_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing()])
    before = _state(sessions)
    for headers in ({}, auth("wrong"), {"Authorization": "Basic eDp5"}):
        response = client.post("/api/alerts/1/ack", json={"by": "mallory"}, headers=headers)
        assert response.status_code == 401
    assert _state(sessions) == before == ("firing", 1)


def test_ack_via_api_records_actor_and_note_and_edits_the_slack_message(
    client: TestClient, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    run_scan(sessions, T0, [failing()])
    response = client.post(
        "/api/alerts/1/ack", json={"by": "alice", "note": "looking"}, headers=auth()
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["transition"], body["alert"]["state"], body["alert"]["acked_by"]) == (
        "acknowledged",
        "acknowledged",
        "alice",
    )
    assert body["alert"]["ack_note"] == "looking"
    # The background delivery posted the (never posted) parent, then edited it.
    assert len(fake_slack.calls_to("chat.postMessage")) >= 1
    assert fake_slack.calls_to("chat.update")


def test_second_ack_gets_409_naming_who_acknowledged_first(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing()])
    client.post("/api/alerts/1/ack", json={"by": "alice"}, headers=auth())
    response = client.post("/api/alerts/1/ack", json={"by": "bob"}, headers=auth())
    assert response.status_code == 409
    assert "already acknowledged by alice" in response.json()["detail"]


def test_snooze_takes_for_and_refuses_more_than_seven_days(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing()])
    too_long = client.post("/api/alerts/1/snooze", json={"by": "a", "for": "8d"}, headers=auth())
    assert too_long.status_code == 422 and "7 days" in too_long.json()["detail"]
    ok = client.post("/api/alerts/1/snooze", json={"by": "a", "for": "4h"}, headers=auth())
    assert ok.json()["alert"]["snoozed_until"] == "2026-11-24T13:00:00Z"


def test_unknown_alert_is_404_and_unknown_action_is_rejected(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    assert client.post("/api/alerts/7/ack", json={"by": "a"}, headers=auth()).status_code == 404
    assert client.get("/api/alerts/7").status_code == 404
    assert client.post("/api/alerts/7/delete", json={"by": "a"}, headers=auth()).status_code == 422


def test_list_filters_by_state_and_show_includes_events(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    run_scan(sessions, T0, [failing("accuracy"), failing("row_count")])
    client.post("/api/alerts/2/resolve", json={"by": "bob", "note": "known"}, headers=auth())
    open_ids = [a["id"] for a in client.get("/api/alerts").json()["alerts"]]
    resolved = client.get("/api/alerts", params={"state": "resolved"}).json()["alerts"]
    assert (open_ids, [a["id"] for a in resolved]) == ([1], [2])
    assert client.get("/api/alerts", params={"state": "bogus"}).status_code == 422
    shown = client.get("/api/alerts/2").json()
    assert [(e["kind"], e["actor"], e["note"]) for e in shown["events"]] == [
        ("raised", "scan", None),
        ("resolved", "bob", "known"),
    ]


def test_list_filters_by_check_and_segment(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    # segments: each -> one alert per segment
    each = AlertPolicy(segment_alerts=frozenset({"accuracy"}))
    run_scan(sessions, T0, [failing("accuracy"), failing("accuracy", segment="north")], policy=each)

    def ids(**params: str) -> list[int]:
        return [a["id"] for a in client.get("/api/alerts", params=params).json()["alerts"]]

    assert ids() == [2, 1]
    assert ids(check="accuracy", segment="north") == [2]
    assert ids(segment="") == [1]
    assert ids(check="row_count") == []


def test_reads_need_a_token_when_read_token_is_set(sessions: sessionmaker[Session]) -> None:
    app = create_app(sessions=sessions, settings=ApiSettings(token="w", read_token="r"))
    with TestClient(app) as client:
        assert client.get("/api/alerts").status_code == 401
        assert client.get("/api/alerts", headers=auth("r")).status_code == 200
        assert client.get("/api/alerts", headers=auth("w")).status_code == 200


def test_writes_are_refused_when_no_api_token_is_configured(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing()])
    app = create_app(sessions=sessions, settings=ApiSettings())
    with TestClient(app) as client:
        response = client.post("/api/alerts/1/ack", json={"by": "a"}, headers=auth("anything"))
    assert response.status_code == 401 and "api.token" in response.json()["detail"]
    assert _state(sessions) == ("firing", 1)


def test_the_api_state_filter_accepts_exactly_the_cli_states() -> None:
    from typing import get_args

    from monitor.alerts.queries import STATE_FILTERS
    from monitor.api.alerts import StateFilter

    assert set(get_args(StateFilter)) == set(STATE_FILTERS)


def test_segment_filter_finds_the_check_alert_that_lists_the_segment(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    # the default: one alert per (model, check), carrying its failing segments
    run_scan(sessions, T0, [failing("accuracy"), failing("accuracy", segment="north")])
    alerts = client.get("/api/alerts").json()["alerts"]
    assert [(a["id"], [s["segment"] for s in a["segments"]]) for a in alerts] == [(1, ["north"])]
    found = client.get("/api/alerts", params={"check": "accuracy", "segment": "north"}).json()
    assert [a["id"] for a in found["alerts"]] == [1]
    assert client.get("/api/alerts", params={"segment": "south"}).json()["alerts"] == []
