from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.models import CheckResult, Scan
from monitor.status import status_report
from monitor.status_render import render_markdown, render_text
from tests.monitor.scancore.conftest import day, make_config

NOW = day(10) + timedelta(hours=2)


def _config() -> Config:
    return make_config("sqlite://")


def _store(
    session: Session, end_day: float, status: str = "ok", *results: CheckResult, **kw: Any
) -> Scan:
    end = day(end_day)
    scan = Scan(
        model="churn",
        window_start=end - timedelta(days=1),
        window_end=end,
        reference={},
        config_hash="h",
        status=status,
        started_at=end,
        finished_at=end,
        **kw,
    )
    scan.results.extend(results)
    session.add(scan)
    session.commit()
    return scan


def _result(check: str, passed: bool | None, severity: str | None = None, **kw: Any) -> CheckResult:
    return CheckResult(
        check=check,
        method=kw.pop("method", "min"),
        passed=passed,
        severity=severity,
        details=kw.pop("details", {}),
        **kw,
    )


def _model(session: Session) -> dict[str, Any]:
    return status_report(_config(), session=session, now=NOW)["models"][0]


def test_a_failing_critical_check_makes_the_model_red_and_says_why(session: Session) -> None:
    _store(session, 10, "failed", _result("accuracy", False, "critical", value=0.74, threshold=0.8))
    model = _model(session)
    assert (model["health"], model["reason"]) == ("red", "accuracy 0.74 < 0.8 (critical)")
    assert model["action_items"][0].startswith("accuracy 0.74 < 0.8 (critical)")


def test_a_failing_warning_check_makes_the_model_yellow(session: Session) -> None:
    _store(
        session,
        10,
        "failed",
        _result("latency_p99", False, "warning", method="max", value=130.0, threshold=100.0),
    )
    model = _model(session)
    assert (model["health"], model["reason"]) == ("yellow", "latency_p99 130 > 100 (warning)")


def test_failed_checks_without_a_severity_do_not_colour_the_model(session: Session) -> None:
    _store(
        session,
        10,
        "failed",
        _result("drift:age", False, None, method="ks", value=0.01, threshold=0.05),
    )
    assert _model(session)["health"] == "green"


@pytest.mark.parametrize(("last_day", "health"), [(10, "green"), (8, "yellow"), (6.5, "red")])
def test_staleness_turns_yellow_after_a_missed_scan_and_red_after_three_intervals(
    session: Session, last_day: float, health: str
) -> None:
    _store(session, last_day, "ok", _result("accuracy", True, value=0.9, threshold=0.8))
    assert _model(session)["health"] == health


def test_never_scanned_is_red_with_a_hint(session: Session) -> None:
    model = _model(session)
    assert model["health"] == "red" and model["last_scan"] is None
    assert "monitor scan churn" in model["action_items"][0]


def test_three_errored_scans_in_a_row_make_the_model_yellow(session: Session) -> None:
    _store(session, 9.5, "ok")
    for n in (9.6, 9.7, 9.8):
        _store(session, n, "error", error="table 'preds' not found")
    model = _model(session)
    assert model["health"] == "yellow" and "3 scans in a row ended in error" in model["reason"]
    assert model["last_scan"]["status"] == "error"
    assert "Fix the scan error" in model["action_items"][0]


def test_two_errored_scans_are_not_yet_a_finding(session: Session) -> None:
    _store(session, 9.5, "ok")
    for n in (9.6, 9.7):
        _store(session, n, "error", error="boom")
    assert _model(session)["health"] == "green"


def test_an_empty_live_window_is_yellow(session: Session) -> None:
    _store(session, 10, "no_data", rows_live=0)
    assert _model(session)["reason"] == "no rows in the live window"


def test_report_fields_come_from_the_latest_scan(session: Session) -> None:
    _store(session, 9, "ok")
    results = (
        _result(
            "dataset_drift",
            False,
            "warning",
            method="share_drifted",
            value=0.5,
            threshold=0.5,
            details={"drifted": ["age"]},
        ),
        _result("drift:age", False, None, method="ks", value=0.001, threshold=0.05),
        _result("drift:income", True, None, method="ks", value=0.4, threshold=0.05),
        _result("accuracy", True, value=0.82, threshold=0.8),
    )
    metrics = {
        "operations": {"row_count": 480, "latency_p99": 40.0},
        "performance": {"accuracy": {"value": 0.82, "baseline": 0.86, "labelled": 400}},
    }
    scan = _store(
        session,
        10,
        "failed",
        *results,
        rows_live=480,
        rows_labelled=400,
        rows_reference=900,
        metrics=metrics,
    )
    model = _model(session)
    assert model["last_scan"]["id"] == scan.id
    assert model["last_scan"]["rows"] == {"reference": 900, "live": 480, "labelled": 400}
    assert model["next_scan"] == "2026-03-12T00:00:00Z"
    assert model["data_drift"]["detected"] is True and model["data_drift"]["share"] == 0.5
    assert [c["column"] for c in model["data_drift"]["columns"] if c["drifted"]] == ["age"]
    assert model["performance"]["accuracy"] == {
        "value": 0.82,
        "baseline": 0.86,
        "threshold": 0.8,
        "passed": True,
        "labelled": 400,
    }
    assert model["model_drift"]["degradation"]["accuracy"] == pytest.approx(-0.04)
    assert model["operations"]["row_count"] == 480
    report = status_report(_config(), session=session, now=NOW)
    assert "churn" in render_text(report) and "| churn | yellow |" in render_markdown(report)
