from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from monitor.alerts.wiring import evaluate_stored_scan
from monitor.config import Config
from monitor.scans.signals import signal_scan_error
from monitor.status import status_report
from monitor.status.render import render_markdown, render_text
from monitor.store import CheckResult, Scan
from tests.monitor.scancore.conftest import day, make_config, model_dict

NOW = day(10) + timedelta(hours=2)
THRESHOLDS = [
    {"metric": "accuracy", "min": 0.8, "severity": "critical"},
    {"metric": "latency_p99", "max": 100, "severity": "warning"},
]


def _config(**model: Any) -> Config:
    return make_config("sqlite://", model_dict(checks={"thresholds": THRESHOLDS}, **model))


def _store(
    session: Session, end_day: float, status: str = "ok", *results: CheckResult, **kw: Any
) -> Scan:
    """A stored scan, judged by the alert layer as `monitor scan` judges it."""
    config = kw.pop("config", None) or _config()
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
    session.flush()
    model = config.model("churn")
    evaluate_stored_scan(session=session, scan=scan, model=model, config=config, now=end)
    signal_scan_error(session=session, scan=scan, model=model, config=config, now=end)
    session.commit()
    return scan


def _result(check: str, passed: bool | None, severity: str | None = None, **kw: Any) -> CheckResult:
    kw.setdefault("method", "min")
    kw.setdefault("details", {})
    return CheckResult(check=check, passed=passed, severity=severity, **kw)


def _model(session: Session, config: Config | None = None) -> dict[str, Any]:
    return status_report(config or _config(), session=session, now=NOW).as_json()["models"][0]


def _accuracy(value: float) -> CheckResult:
    failed = value < 0.8
    severity = "critical" if failed else None
    return _result("accuracy", not failed, severity, value=value, threshold=0.8)


def test_a_critical_condition_makes_the_model_red_and_says_why(session: Session) -> None:
    _store(session, 10, "failed", _accuracy(0.74))
    model = _model(session)
    assert (model["health"], model["reason"]) == ("red", "accuracy 0.74 < 0.8 (critical)")
    assert model["action_items"][0].startswith("accuracy 0.74 < 0.8 (critical)")
    assert model["alerts"]["open"] == 1 and model["alerts"]["unacknowledged"] == 1


def test_a_warning_condition_makes_the_model_yellow(session: Session) -> None:
    latency = _result("latency_p99", False, "warning", method="max", value=130.0, threshold=100.0)
    _store(session, 10, "failed", latency)
    model = _model(session)
    assert (model["health"], model["reason"]) == ("yellow", "latency_p99 130 > 100 (warning)")


def test_health_follows_the_debounced_condition_not_a_single_window(session: Session) -> None:
    config = _config(alerts={"raise_after": 2})
    _store(session, 9, "failed", _accuracy(0.74), config=config)
    assert _model(session, config)["health"] == "green"
    _store(session, 10, "failed", _accuracy(0.74), config=config)
    assert _model(session, config)["health"] == "red"


def test_recovery_turns_green_and_sticky_health_keeps_the_colour_until_acknowledged(
    session: Session,
) -> None:
    _store(session, 9, "failed", _accuracy(0.74))
    _store(session, 10, "ok", _accuracy(0.9))
    assert _model(session)["health"] == "green"
    sticky = _config(alerts={"sticky_health": True})
    model = _model(session, sticky)
    assert (model["health"], model["reason"]) == ("red", "1 unacknowledged alert(s)")


def test_failed_checks_without_a_severity_do_not_colour_the_model(session: Session) -> None:
    drift = _result("drift:age", False, None, method="ks", value=0.01, threshold=0.05)
    _store(session, 10, "failed", drift)
    assert _model(session)["health"] == "green"


@pytest.mark.parametrize(("last_day", "health"), [(10, "green"), (8, "yellow"), (6.5, "red")])
def test_staleness_turns_yellow_after_a_missed_scan_and_red_after_three_intervals(
    session: Session, last_day: float, health: str
) -> None:
    _store(session, last_day, "ok", _accuracy(0.9))
    assert _model(session)["health"] == health


def test_never_scanned_is_red_with_a_hint(session: Session) -> None:
    model = _model(session)
    assert model["health"] == "red" and model["last_scan"] is None
    assert "monitor scan churn" in model["action_items"][0]


def test_three_errored_scans_in_a_row_open_a_scan_error_alert_and_turn_yellow(
    session: Session,
) -> None:
    _store(session, 9.5, "ok")
    _store(session, 9.6, "error", error="table 'preds' not found")
    _store(session, 9.7, "error", error="table 'preds' not found")
    assert _model(session)["health"] == "green"  # two errors are not yet a finding
    _store(session, 9.8, "error", error="table 'preds' not found")
    model = _model(session)
    assert model["health"] == "yellow" and "table 'preds' not found" in model["reason"]
    assert model["alerts"]["open"] == 1
    assert model["last_scan"]["status"] == "error"
    assert "Fix the scan error" in model["action_items"][0]


def test_an_empty_live_window_is_yellow(session: Session) -> None:
    _store(session, 10, "no_data", rows_live=0)
    assert _model(session)["reason"] == "no rows in the live window"


def test_report_fields_come_from_the_latest_scan(session: Session) -> None:
    _store(session, 9, "ok")
    dataset = _result(
        "dataset_drift",
        False,
        "warning",
        method="share_drifted",
        value=0.5,
        threshold=0.5,
        details={"drifted": ["age"]},
    )
    results = (
        dataset,
        _result("drift:age", False, None, method="ks", value=0.001, threshold=0.05),
        _result("drift:income", True, None, method="ks", value=0.4, threshold=0.05),
        _accuracy(0.82),
    )
    metrics = {
        "operations": {"row_count": 480, "latency_p99": 40.0},
        "performance": {"accuracy": {"value": 0.82, "baseline": 0.86, "labelled": 400}},
    }
    rows = {"rows_live": 480, "rows_labelled": 400, "rows_reference": 900}
    scan = _store(session, 10, "failed", *results, metrics=metrics, **rows)
    model = _model(session)
    assert model["health"] == "yellow" and model["reason"].startswith("dataset drift")
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
        "change_percent": pytest.approx((0.82 - 0.86) / 0.86 * 100),
        "higher_is_better": True,
    }
    assert model["model_drift"]["degradation"]["accuracy"] == pytest.approx(-0.04)
    assert model["model_drift"]["degradation_percent"]["accuracy"] == pytest.approx(-4.651, 1e-3)
    assert model["operations"]["row_count"] == 480
    report = status_report(_config(), session=session, now=NOW)
    assert "churn" in render_text(report) and "| churn | yellow |" in render_markdown(report)


def test_stale_alert_fires_after_a_missed_interval_and_resolves_with_fresh_data(
    session: Session,
) -> None:
    from monitor.scans.service import check_stale
    from monitor.store import Alert

    config = _config()
    _store(session, 8, "ok", _accuracy(0.9))
    check_stale(config=config, session=session, now=day(9) + timedelta(hours=1))
    assert session.query(Alert).filter(Alert.check_id == "stale").count() == 0
    check_stale(config=config, session=session, now=day(10) + timedelta(hours=1))
    stale = session.query(Alert).filter(Alert.check_id == "stale").one()
    assert (stale.state, stale.severity) == ("firing", "warning")
    _store(session, 10, "ok", _accuracy(0.9))
    check_stale(config=config, session=session, now=day(10) + timedelta(hours=2))
    session.refresh(stale)
    assert stale.state == "recovered"
