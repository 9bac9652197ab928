"""Calibrated drift mode through the scan service: a stationary model scanned over many
small windows rarely raises dataset drift (Evidently's fixed thresholds often do), and a
0.5 sd shift is caught; in exact and warehouse mode."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.scans import run_scan
from monitor.sources import SourceEngines
from monitor.store import DriftCalibration
from tests.monitor.scancore.conftest import T0, make_config, model_dict, write

Engines = Callable[[Config], SourceEngines]
WINDOWS = 50
PER_HOUR = 100
REFERENCE_HOURS = 50  # 5,000 reference rows


def _frame(hours: int, start_hour: int, *, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = hours * PER_HOUR
    offsets = np.repeat(np.arange(hours), PER_HOUR) * 3600 + rng.integers(0, 3600, n)
    start = pd.Timestamp(T0.replace(tzinfo=None)) + pd.Timedelta(hours=start_hour)
    return pd.DataFrame(
        {
            "ts": start + pd.to_timedelta(offsets, unit="s"),
            "f1": rng.normal(shift, 1, n),
            "f2": rng.normal(shift, 1, n),
            "f3": rng.lognormal(0, 0.5, n),
            "f4": rng.normal(shift, 1, n),
            "c1": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "pred": rng.integers(0, 2, n),
        }
    )


def _model(mode: str, warehouse: bool) -> dict[str, object]:
    end = (T0 + timedelta(hours=REFERENCE_HOURS)).strftime("%Y-%m-%dT%H:%M:%S")
    return model_dict(
        features={"numerical": ["f1", "f2", "f3", "f4"], "categorical": ["c1"]},
        prediction="pred",
        score=None,
        target=None,
        latency=None,
        reference={"between": [T0.strftime("%Y-%m-%dT%H:%M:%S"), end]},
        window="1h",
        schedule={"every": "1h"},
        warehouse=warehouse,
        checks={"drift": {"mode": mode, "prediction": False}},
    )


def _dataset_drift(
    db_url: str,
    engine: Engine,
    engines_for: Engines,
    session: Session,
    *,
    mode: str,
    warehouse: bool,
    shift: float = 0.0,
) -> list[bool | None]:
    reference = _frame(REFERENCE_HOURS, 0, seed=1)
    live = _frame(WINDOWS, REFERENCE_HOURS, seed=2, shift=shift)
    write(engine, pd.concat([reference, live], ignore_index=True), "preds")
    config = make_config(db_url, _model(mode, warehouse))
    engines = engines_for(config)
    verdicts = []
    for k in range(WINDOWS):
        end = T0 + timedelta(hours=REFERENCE_HOURS + k + 1)
        report = run_scan(config.model("churn"), end, engines=engines, session=session)
        assert report.status != "error", report.error
        row = next(r for r in report.results if r.outcome.check == "dataset_drift")
        verdicts.append(None if row.outcome.passed is None else not row.outcome.passed)
    session.commit()
    return verdicts


@pytest.mark.parametrize("warehouse", [False, True], ids=["exact", "warehouse"])
def test_stationary_small_windows_rarely_raise_dataset_drift_in_calibrated_mode(
    db_url: str, engine: Engine, engines_for: Engines, session: Session, warehouse: bool
) -> None:
    calibrated = _dataset_drift(
        db_url, engine, engines_for, session, mode="calibrated", warehouse=warehouse
    )
    assert None not in calibrated  # 100 rows per window: judged (min_rows 100)
    assert sum(bool(v) for v in calibrated) <= 2
    # learnt once for the 100-row bucket and cached with the reference
    assert session.query(DriftCalibration).count() == 5
    evidently = _dataset_drift(
        db_url, engine, engines_for, session, mode="evidently", warehouse=warehouse
    )
    drifted = sum(bool(v) for v in evidently)
    print(
        f"dataset_drift in {WINDOWS} stationary windows: calibrated "
        f"{sum(bool(v) for v in calibrated)}, evidently {drifted}"
    )
    assert drifted > 2 * max(sum(bool(v) for v in calibrated), 1)


@pytest.mark.parametrize("warehouse", [False, True], ids=["exact", "warehouse"])
def test_a_half_sd_shift_is_detected_in_calibrated_mode(
    db_url: str, engine: Engine, engines_for: Engines, session: Session, warehouse: bool
) -> None:
    verdicts = _dataset_drift(
        db_url, engine, engines_for, session, mode="calibrated", warehouse=warehouse, shift=0.5
    )
    # three of five columns shifted by 0.5 sd; dataset drift needs 2 drifted columns
    assert None not in verdicts
    detected = sum(bool(v) for v in verdicts)
    print(f"0.5 sd shift on 3 of 5 columns, 100-row windows: dataset_drift in {detected}/{WINDOWS}")
    assert detected >= 0.6 * WINDOWS


@pytest.mark.parametrize("mode", ["calibrated", "evidently"])
def test_a_drift_alert_leads_with_the_effect_and_says_how_its_threshold_was_obtained(
    db_url: str, engine: Engine, engines_for: Engines, session: Session, mode: str
) -> None:
    from monitor.alerts.wiring import summary
    from monitor.slack.console import ConsoleNotifier
    from monitor.store import Alert, CheckResult

    reference = _frame(REFERENCE_HOURS, 0, seed=1)
    live = _frame(1, REFERENCE_HOURS, seed=2, shift=1.0)
    write(engine, pd.concat([reference, live], ignore_index=True), "preds")
    config = make_config(db_url, _model(mode, False))
    end = T0 + timedelta(hours=REFERENCE_HOURS + 1)
    report = run_scan(config.model("churn"), end, engines=engines_for(config), session=session)
    assert report.status != "error", report.error
    rows = {
        r.outcome.check: CheckResult(
            check=r.outcome.check,
            method=r.outcome.method,
            value=r.outcome.value,
            threshold=r.outcome.threshold,
            passed=r.outcome.passed,
            reason=r.outcome.reason,
            details=dict(r.outcome.details),
            segment=r.segment,
            severity=r.severity,
        )
        for r in report.results
        if not r.segment
    }
    row = rows["drift:f1"]
    assert row.passed is False
    shift = (live["f1"].mean() - reference["f1"].mean()) / reference["f1"].std(ddof=1)
    text = summary(row)
    assert text.startswith(f"f1: mean {shift:+.2f} sd (drift:f1 ")
    if mode == "calibrated":
        assert "; calibrated: ad > " in text and "resampled windows of 100 rows" in text
        assert "(1% of scans over 5 columns)" in text  # f1-f4, c1 (prediction drift is off)
    else:
        assert text.endswith("; Evidently mode's fixed threshold)")
    dataset = summary(rows["dataset_drift"])
    assert dataset.startswith(f"f1: mean {shift:+.2f} sd")
    out = io.StringIO()
    alert = Alert(
        id=1, model="churn", check_id="drift:f1", segment="", state="firing",
        severity="warning", condition="warning", occurrences=1, value=row.value,
        threshold=row.threshold, summary=text, raised_at=end, version=1,
    )  # fmt: skip
    ConsoleNotifier(out).post(alert, channel="console", mention=None)
    assert f"│ [WARNING] churn: {text} (firing)" in out.getvalue().splitlines()
    session.rollback()
