"""Which checks a scan judges per segment (``segments:``) and when a segment is too small
(``min_rows``): DESIGN "Segments"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config, parse_config
from monitor.errors import ConfigError
from monitor.scans import run_scan, store_scan
from monitor.sources import SourceEngines
from monitor.store import CheckResult, Scan
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write

Engines = Callable[[Config], SourceEngines]


def _scan(config: Config, engines_for: Engines, session: Session) -> Scan:
    report = run_scan(config.model("churn"), day(2), engines=engines_for(config), session=session)
    scan = store_scan(report, session=session)
    session.commit()
    return scan


def _results(scan: Scan, segment: str) -> dict[str, CheckResult]:
    return {r.check: r for r in scan.results if r.segment == segment}


def _config(db_url: str, **checks: Any) -> Config:
    return make_config(db_url, model_dict(segment="region", checks=checks))


def test_volume_checks_judge_the_whole_window_only_unless_asked(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    thresholds = [
        {"metric": "row_count", "min": 1000},
        {"metric": "throughput", "min": 1},
        {"metric": "accuracy", "min": 0.5},
    ]
    scan = _scan(_config(db_url, thresholds=thresholds), engines_for, session)
    north = _results(scan, "north")
    assert "row_count" not in north and "throughput" not in north
    assert "accuracy" in north and "drift:age" in north
    assert {"row_count", "throughput", "accuracy"} <= set(_results(scan, ""))


def test_segments_false_on_drift_leaves_the_segments_to_the_thresholds(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    config = _config(
        db_url,
        drift={"mode": "evidently", "segments": False},
        thresholds=[{"metric": "row_count", "min": 1, "segments": True}],
    )
    scan = _scan(config, engines_for, session)
    assert set(_results(scan, "south")) == {"row_count"}
    assert "dataset_drift" in _results(scan, "")


def test_a_segment_below_min_rows_is_insufficient_data_with_its_value_kept(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 48)
    write(engine, frame, "preds")
    live = frame[frame["ts"] >= day(1).replace(tzinfo=None)]
    south_rows = int((live["region"] == "south").sum())
    north_rows = int((live["region"] == "north").sum())
    assert south_rows < 200 < north_rows
    thresholds = [{"metric": "accuracy", "min": 0.99, "min_labels": 10, "min_rows": 200}]
    scan = _scan(_config(db_url, thresholds=thresholds), engines_for, session)
    south, north = _results(scan, "south")["accuracy"], _results(scan, "north")["accuracy"]
    assert (south.passed, south.severity, south.value is not None) == (None, None, True)
    assert south.reason == (
        f"insufficient data: segment south has {south_rows} rows < min_rows 200"
    )
    assert north.passed is False and _results(scan, "")["accuracy"].passed is False


def test_evidently_mode_skips_drift_of_a_segment_below_the_drift_min_rows(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    scan = _scan(
        _config(db_url, drift={"mode": "evidently", "min_rows": 200}), engines_for, session
    )
    south = _results(scan, "south")
    assert south["dataset_drift"].passed is None
    assert "min_rows 200" in (south["dataset_drift"].reason or "")
    assert "drift:age" not in south
    assert _results(scan, "north")["dataset_drift"].passed is not None


def _parse(thresholds: list[dict[str, Any]]) -> Config:
    model = model_dict(checks={"thresholds": thresholds})
    tree = {"state_db": "sqlite://", "sources": {"logs": {"url": "sqlite://"}}, "models": [model]}
    return parse_config(tree, file="test.yaml")


def test_segments_defaults_are_false_for_volume_checks_only() -> None:
    config = _parse(
        [
            {"metric": "row_count", "min": 1},
            {"metric": "throughput", "min": 1},
            {"metric": "f1", "min": 0.1},
            {"metric": "latency_p95", "max": 1, "segments": "each"},
        ]
    )
    entries = config.model("churn").checks.thresholds
    assert [t.per_segment for t in entries] == [False, False, True, "each"]
    assert config.model("churn").checks.drift.segments is True


def test_a_ladder_with_two_segments_settings_is_rejected_naming_the_check() -> None:
    ladder = [
        {"metric": "accuracy", "min": 0.9, "segments": False},
        {"metric": "accuracy", "min": 0.5, "severity": "critical"},
    ]
    with pytest.raises(ConfigError, match="thresholds of accuracy form one check"):
        _parse(ladder)
