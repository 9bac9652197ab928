"""The HTTP read API, through the app on a real state DB (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config
from monitor.status import status_report
from monitor.store import PerformanceEstimate
from tests.monitor.dashboard.conftest import API_TOKEN, NOW, READ_TOKEN, store_scan


@pytest.fixture
def history(sessions: sessionmaker[Session], config: Config) -> list[int]:
    """Five daily scans: accuracy drops below 0.80 on days 4 and 5, age drifts on day 5."""
    accuracies = [0.86, 0.85, 0.84, 0.74, 0.72]
    ages = [0.4, 0.3, 0.5, 0.2, 0.001]
    return [
        store_scan(sessions, config, d + 1, a, p)
        for d, (a, p) in enumerate(zip(accuracies, ages, strict=True))
    ]


def test_models_lists_every_model_with_the_status_report(
    make_client: Any, history: list[int], sessions: sessionmaker[Session], config: Config
) -> None:
    body = make_client().get("/api/models").json()
    with sessions() as session:
        expected = status_report(config, session=session, now=NOW).as_json()
    assert body == expected
    churn = next(m for m in body["models"] if m["name"] == "churn")
    assert (churn["health"], churn["reason"]) == ("red", "accuracy 0.72 < 0.8 (critical)")
    assert churn["performance"]["accuracy"] == {
        "value": 0.72,
        "baseline": 0.86,
        "threshold": 0.8,
        "passed": False,
        "labelled": None,
        "change_percent": pytest.approx((0.72 - 0.86) / 0.86 * 100),
        "higher_is_better": True,
    }
    assert churn["alerts"]["open"] == 1 and churn["alerts"]["unacknowledged"] == 1


def test_one_model_shows_its_report_and_an_unknown_one_is_404_naming_the_known(
    make_client: Any, history: list[int]
) -> None:
    client = make_client()
    assert client.get("/api/models/churn").json()["last_scan"]["id"] == history[-1]
    missing = client.get("/api/models/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "unknown model 'nope'; known: churn, eta"


def test_scans_are_listed_newest_window_first(make_client: Any, history: list[int]) -> None:
    scans = make_client().get("/api/models/churn/scans?limit=3").json()["scans"]
    assert [s["id"] for s in scans] == history[::-1][:3]
    assert scans[0]["status"] == "failed" and scans[-1]["status"] == "ok"


def test_a_scan_shows_every_check_result(make_client: Any, history: list[int]) -> None:
    client = make_client()
    scan = client.get(f"/api/scans/{history[3]}").json()
    results = {r["check_id"]: r for r in scan["results"]}
    assert set(results) == {"accuracy", "drift:age"}
    assert results["accuracy"]["value"] == 0.74 and results["accuracy"]["passed"] is False
    assert client.get("/api/scans/999999").status_code == 404


@pytest.mark.parametrize("check_path", ["drift:age", "drift%3Aage"], ids=["colon", "encoded"])
def test_check_history_routes_check_ids_with_a_colon(
    make_client: Any, history: list[int], check_path: str
) -> None:
    body = make_client().get(f"/api/models/churn/checks/{check_path}/history").json()
    assert body["check_id"] == "drift:age"
    assert [p["value"] for p in body["points"]] == [0.4, 0.3, 0.5, 0.2, 0.001]
    assert [p["passed"] for p in body["points"]] == [True] * 4 + [False]


def test_check_history_marks_the_alert_period(make_client: Any, history: list[int]) -> None:
    body = make_client().get("/api/models/churn/checks/accuracy/history").json()
    [alert] = body["alerts"]
    assert alert["state"] == "firing" and alert["severity"] == "critical"
    # raised by the first failing window (day 4), still going on
    assert alert["from"] == body["points"][3]["window_end"] and alert["to"] is None


def test_check_history_lists_each_configured_threshold_level(
    make_client: Any, history: list[int]
) -> None:
    accuracy = make_client().get("/api/models/churn/checks/accuracy/history").json()
    assert accuracy["levels"] == [{"severity": "critical", "bound": "min", "value": 0.8}]
    drift = make_client().get("/api/models/churn/checks/drift:age/history").json()
    assert drift["levels"] == []  # a drift threshold is per result, not a configured level


def test_metrics_history_gives_each_scans_observed_metrics_oldest_first(
    make_client: Any, history: list[int]
) -> None:
    body = make_client().get("/api/models/churn/metrics").json()
    assert [p["scan_id"] for p in body["points"]] == history
    assert [p["performance"]["accuracy"]["value"] for p in body["points"]] == [
        0.86,
        0.85,
        0.84,
        0.74,
        0.72,
    ]
    assert body["points"][0]["rows"] == {"reference": 480, "live": 480, "labelled": 400}
    assert make_client().get("/api/models/nope/metrics").status_code == 404


def test_reads_are_open_without_a_read_token(make_client: Any, history: list[int]) -> None:
    assert make_client().get("/api/models").status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Bearer {READ_TOKEN}"}, 200),
        ({"Authorization": f"Bearer {API_TOKEN}"}, 200),
    ],
    ids=["none", "wrong", "read-token", "write-token"],
)
def test_reads_need_a_bearer_token_when_read_token_is_set(
    make_client: Any, history: list[int], headers: dict[str, str], status: int
) -> None:
    client = make_client(read_token=READ_TOKEN)
    for path in ("/api/models", "/api/models/churn/scans", f"/api/scans/{history[0]}"):
        assert client.get(path, headers=headers).status_code == status, path


def test_acknowledging_an_alert_shows_in_the_model_report(
    make_client: Any, history: list[int]
) -> None:
    client = make_client()
    [alert] = client.get("/api/alerts?model=churn").json()["alerts"]
    acked = client.post(
        f"/api/alerts/{alert['id']}/ack",
        json={"by": "ana"},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert acked.json()["alert"]["state"] == "acknowledged"
    alerts = client.get("/api/models/churn").json()["alerts"]
    assert alerts == {
        "open": 1,
        "unacknowledged": 0,
        "oldest_unacknowledged_since": None,
        "resolutions": [],
    }


def test_the_dashboard_page_and_its_files_load_nothing_from_the_network(
    make_client: Any,
) -> None:
    client = make_client()
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for name in ("app.js", "charts.js", "style.css"):
        served = client.get(f"/static/{name}")
        assert served.status_code == 200
        assert "://" not in served.text, name
    assert "://" not in page.text
    # every file the page names is served from here, the vendored chart library included
    urls = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", page.text)
    assert "/static/vendor/uplot/uPlot.iife.min.js" in urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_the_openapi_page_lists_every_read_endpoint(make_client: Any) -> None:
    paths = make_client().get("/openapi.json").json()["paths"]
    for path in (
        "/api/models",
        "/api/models/{name}",
        "/api/models/{name}/scans",
        "/api/scans/{scan_id}",
        "/api/models/{name}/checks/{check_id}/history",
        "/api/models/{name}/metrics",
        "/api/models/{name}/retrainings",
        "/api/alerts",
        "/api/alerts/{alert_id}",
    ):
        assert path in paths, path
    assert make_client().get("/docs").status_code == 200


def test_a_model_shows_estimated_beside_realised_performance(
    make_client: Any, history: list[int], sessions: sessionmaker[Session]
) -> None:
    day = timedelta(days=1)
    with sessions() as session:
        for back, realised in ((2, 0.81), (1, None)):
            end = NOW.replace(hour=0, minute=0, second=0, microsecond=0) - back * day
            session.add(
                PerformanceEstimate(
                    model="churn", metric="accuracy", window_start=end - day, window_end=end,
                    estimated=0.78, lower=0.76, upper=0.80, sampling_error=0.0067, rows=4_000,
                    how="CBPE", realised=realised, labelled=3_900 if realised else None,
                )
            )  # fmt: skip
        session.commit()
    estimates = make_client().get("/api/models/churn").json()["estimates"]
    pending, arrived = (w["metrics"]["accuracy"] for w in estimates["recent"])
    assert pending["text"] == "accuracy 0.78 (estimated ± 0.02, labels pending)"
    assert (pending["labels"], pending["realised"]) == ("pending", None)
    assert arrived["text"] == "accuracy 0.81 (realised; estimated 0.78 ± 0.02)"
    assert arrived["error"] == pytest.approx(0.03)
    assert estimates["error"]["accuracy"]["windows"] == 1
    assert estimates["error"]["accuracy"]["mean_abs_error"] == pytest.approx(0.03)
