"""Per-model /metrics content, scraped through the app on a real state DB."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config
from tests.monitor.dashboard.conftest import store_scan


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_give_each_models_health_and_latest_check_values(
    make_client: Any, sessions: sessionmaker[Session], config: Config
) -> None:
    store_scan(sessions, config, 1, accuracy=0.86, age=0.4)
    store_scan(sessions, config, 2, accuracy=0.72, age=0.001)
    response = make_client().get("/metrics")
    assert response.status_code == 200
    got = _samples(response.text)
    churn = (("model", "churn"),)
    assert got[("monitor_model_health", churn)] == 2.0  # critical accuracy: red
    assert got[("monitor_model_health_status", (("health", "red"), ("model", "churn")))] == 1.0
    assert got[("monitor_model_health_status", (("health", "green"), ("model", "churn")))] == 0.0
    assert got[("monitor_model_unacknowledged_alerts", churn)] == 1.0
    accuracy = (("check", "accuracy"), ("model", "churn"))
    assert got[("monitor_check_value", accuracy)] == 0.72
    assert got[("monitor_check_threshold", accuracy)] == 0.8
    assert got[("monitor_check_passed", accuracy)] == 0.0
    assert got[("monitor_check_passed", (("check", "drift:age"), ("model", "churn")))] == 0.0
    # eta was never scanned: red, and no check samples
    assert got[("monitor_model_health", (("model", "eta"),))] == 2.0
    assert not [k for k in got if k[0] == "monitor_check_value" and ("model", "eta") in k[1]]


def test_metrics_follow_recovery_to_green(
    make_client: Any, sessions: sessionmaker[Session], config: Config
) -> None:
    store_scan(sessions, config, 5, accuracy=0.72, age=0.4)
    store_scan(sessions, config, 6, accuracy=0.9, age=0.4)
    got = _samples(make_client().get("/metrics").text)
    # the condition cleared; the alert is still open (sticky) but health follows conditions
    assert got[("monitor_model_health", (("model", "churn"),))] == 0.0
    assert got[("monitor_check_passed", (("check", "accuracy"), ("model", "churn")))] == 1.0
