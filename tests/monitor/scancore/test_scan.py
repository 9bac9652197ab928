from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.scans import run_scan, store_scan
from monitor.scans.service import scan_all
from monitor.sources import SourceEngines
from monitor.store import CheckResult, DriftCalibration, ReferenceProfile, Scan
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write

Engines = Callable[[Config], SourceEngines]
ACCURACY_LADDER = [
    {"metric": "accuracy", "min": 0.9, "severity": "warning"},
    {"metric": "accuracy", "min": 0.5, "severity": "critical"},
]


def _scan(
    config: Config, engines_for: Engines, session: Session, at_day: float, name: str = "churn"
) -> Scan:
    report = run_scan(config.model(name), day(at_day), engines=engines_for(config), session=session)
    scan = store_scan(report, session=session)
    session.commit()
    return scan


def _results(scan: Scan, segment: str = "") -> dict[str, CheckResult]:
    return {r.check: r for r in scan.results if r.segment == segment}


def test_scan_stores_drift_against_scipy_and_accuracy_against_sklearn(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    reference = log_frame(T0, 24, per_hour=30, seed=1)
    live = log_frame(day(1), 24, per_hour=30, seed=2, shift=6.0)  # age shifts by 6 years
    live["id"] += len(reference)
    write(engine, pd.concat([reference, live]), "preds")
    config = make_config(
        db_url,
        model_dict(
            reference={"between": ["2026-03-01", "2026-03-02"]},
            checks={
                "drift": {"per_column": {"age": {"severity": "critical"}}},
                "thresholds": ACCURACY_LADDER,
            },
        ),
    )
    scan = _scan(config, engines_for, session, 2)
    results = _results(scan)
    # 720 reference rows (<= 1000): Evidently's default is KS for numerical columns.
    ks = stats.ks_2samp(reference["age"], live["age"])
    assert results["drift:age"].method == "ks"
    assert results["drift:age"].value == pytest.approx(ks.pvalue, rel=1e-6)
    assert results["drift:age"].passed is False and results["drift:age"].severity == "critical"
    assert results["drift:income"].passed is True and results["drift:income"].severity is None
    expected = accuracy_score(live["label"], live["pred"])
    assert results["accuracy"].value == pytest.approx(expected)
    assert scan.rows_live == len(live) and scan.rows_reference == len(reference)
    assert scan.status == "failed"


def test_ladder_severity_is_the_worst_failing_level(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    config = make_config(db_url, model_dict(checks={"thresholds": ACCURACY_LADDER}))
    accuracy = _results(_scan(config, engines_for, session, 2))["accuracy"]
    assert 0.5 < accuracy.value < 0.9
    assert (accuracy.passed, accuracy.severity, accuracy.threshold) == (False, "warning", 0.9)


def test_performance_is_judged_label_delay_back(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 96)
    frame.loc[frame["ts"] >= day(3).replace(tzinfo=None), "label"] = None  # labels not yet in
    write(engine, frame, "preds")
    delayed = make_config(
        db_url, model_dict(label_delay="2d", checks={"thresholds": ACCURACY_LADDER})
    )
    scan = _scan(delayed, engines_for, session, 4)
    judged = frame[
        (frame["ts"] >= day(1).replace(tzinfo=None)) & (frame["ts"] < day(2).replace(tzinfo=None))
    ]
    assert scan.rows_labelled == len(judged)
    assert _results(scan)["accuracy"].value == pytest.approx(
        accuracy_score(judged["label"], judged["pred"])
    )
    undelayed = make_config(db_url, model_dict(name="now", checks={"thresholds": ACCURACY_LADDER}))
    accuracy = _results(_scan(undelayed, engines_for, session, 4, name="now"))["accuracy"]
    assert accuracy.passed is None and "insufficient data" in (accuracy.reason or "")


def test_empty_live_window_is_no_data_not_a_pass(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 24), "preds")
    config = make_config(
        db_url,
        model_dict(checks={"thresholds": [{"metric": "row_count", "min": 10}]}),
        evidently=False,
    )
    scan = _scan(config, engines_for, session, 5)
    results = _results(scan)
    assert scan.status == "no_data" and scan.rows_live == 0
    assert results["row_count"].passed is False
    assert results["drift:age"].passed is None and results["dataset_drift"].passed is None


def test_null_only_column_gives_insufficient_drift_and_a_missing_share_failure(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 48)
    frame.loc[frame["ts"] >= day(1).replace(tzinfo=None), "income"] = None
    write(engine, frame, "preds")
    scan = _scan(make_config(db_url, evidently=False), engines_for, session, 2)
    results = _results(scan)
    assert scan.status == "failed"
    assert results["drift:income"].passed is None
    assert results["missing_share:income"].passed is False
    assert results["missing_share:income"].value == pytest.approx(1.0)


def test_rescanning_a_window_replaces_its_results_and_keeps_the_scan(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 48)
    late = frame["ts"] >= day(1).replace(tzinfo=None)
    write(engine, frame.assign(label=frame["label"].where(~late)), "preds")
    config = make_config(
        db_url,
        model_dict(checks={"thresholds": [{"metric": "accuracy", "min": 0.5, "min_labels": 10}]}),
    )
    first = _scan(config, engines_for, session, 2)
    assert _results(first)["accuracy"].passed is None
    write(engine, frame, "preds")  # the late labels arrived
    second = _scan(config, engines_for, session, 2)
    assert second.id == first.id
    assert session.scalar(select(func.count()).select_from(Scan)) == 1
    counts = session.execute(
        select(CheckResult.check, func.count()).group_by(CheckResult.check).having(func.count() > 1)
    ).all()
    assert counts == []
    assert _results(second)["accuracy"].passed is True


def test_a_broken_model_is_recorded_as_error_and_others_still_scan(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    config = make_config(
        db_url, model_dict(name="broken", table="missing_table"), model_dict(), evidently=False
    )
    plan = [(config.model("broken"), day(2)), (config.model("churn"), day(2))]
    reports = list(scan_all(plan, config=config, engines=engines_for(config), session=session))
    assert [r.status for r in reports] == ["error", "ok"]
    stored = {s.model: s for s in session.scalars(select(Scan))}
    assert stored["broken"].status == "error"
    assert "table 'missing_table' not found" in (stored["broken"].error or "")
    assert stored["broken"].results == []


def test_store_scan_never_commits(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    config = make_config(db_url, evidently=False)
    report = run_scan(config.model("churn"), day(2), engines=engines_for(config), session=session)
    store_scan(report, session=session)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Scan)) == 0


def test_dry_run_stores_nothing(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    config = make_config(db_url, evidently=False)
    reports = list(
        scan_all(
            [(config.model("churn"), day(2))],
            config=config,
            engines=engines_for(config),
            session=session,
            dry_run=True,
        )
    )
    assert reports[0].status == "ok" and reports[0].results
    assert session.scalar(select(func.count()).select_from(Scan)) == 0
    assert session.scalar(select(func.count()).select_from(ReferenceProfile)) == 0
    assert session.scalar(select(func.count()).select_from(DriftCalibration)) == 0


def test_fixed_reference_is_summarised_once_and_rolling_by_its_period(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 96), "preds")
    fixed = make_config(db_url, evidently=False)
    first, second = _scan(fixed, engines_for, session, 2), _scan(fixed, engines_for, session, 3)
    assert (first.reference["cached"], second.reference["cached"]) == (False, True)
    assert _results(first)["drift:age"].method == _results(second)["drift:age"].method
    rolling = make_config(
        db_url, model_dict(name="rolling", reference={"previous": "1d"}), evidently=False
    )
    scan = _scan(rolling, engines_for, session, 3, name="rolling")
    assert scan.reference["kind"] == "previous" and scan.reference["cached"] is False
    # not its period (the next window has another), but its live window, which is the next
    # scan's reference (test_rolling_reference.py)
    assert session.scalar(select(func.count()).select_from(ReferenceProfile)) == 2
    assert _scan(rolling, engines_for, session, 4, name="rolling").reference["cached"] is True


def test_cached_summary_gives_the_same_verdicts_as_the_rows(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 72, seed=4)
    write(engine, frame, "preds")
    config = make_config(db_url, evidently=False)
    fresh = {
        c: (r.value, r.passed) for c, r in _results(_scan(config, engines_for, session, 2)).items()
    }
    session.execute(Scan.__table__.delete())
    session.commit()
    session.expunge_all()
    cached_scan = _scan(config, engines_for, session, 2)
    assert cached_scan.reference["cached"] is True
    assert {c: (r.value, r.passed) for c, r in _results(cached_scan).items()} == fresh


def test_segments_get_their_own_results_beside_the_whole_window(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 48)
    write(engine, frame, "preds")
    config = make_config(
        db_url,
        model_dict(
            segment="region",
            checks={"thresholds": [{"metric": "row_count", "min": 1, "segments": True}]},
        ),
        evidently=False,
    )
    scan = _scan(config, engines_for, session, 2)
    live = frame[frame["ts"] >= day(1).replace(tzinfo=None)]
    for region in ("north", "south"):
        results = _results(scan, region)
        assert results["row_count"].value == (live["region"] == region).sum()
        assert {"drift:age", "dataset_drift", "prediction_drift"} <= set(results)
    assert _results(scan)["row_count"].value == len(live)


def test_max_segments_keeps_the_largest_segments(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    config = make_config(db_url, model_dict(segment="region", max_segments=1), evidently=False)
    scan = _scan(config, engines_for, session, 2)
    assert {r.segment for r in scan.results} == {"", "north"}


def test_times_and_results_round_trip_as_utc(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    scan = _scan(make_config(db_url, evidently=False), engines_for, session, 2)
    session.expire_all()
    stored = session.get(Scan, scan.id)
    assert stored is not None
    assert stored.window_end == day(2) and stored.window_start == day(1)
    assert stored.window_end.utcoffset() == timedelta(0)
    assert np.isfinite([r.value for r in stored.results if r.value is not None]).all()


def test_a_summary_cached_by_someone_else_first_is_not_an_error(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    """A replica, or on SQLite too another model with the same reference on a worker thread
    (found by bench/scheduler_overhead.py: 'UNIQUE constraint failed', scan not stored)."""
    from monitor.scans.cache import _remember

    write(engine, log_frame(T0, 48), "preds")
    scan = _scan(make_config(db_url), engines_for, session, 2)
    cached = session.scalars(select(ReferenceProfile)).one()
    duplicate = {
        "model": "churn",
        "fingerprint": cached.fingerprint,
        "identity": None,
        "checked_at": None,
        "descriptor": {},
        "rows": 0,
        "profiles": b"",
        "metrics": {},
        "created_at": cached.created_at,
    }
    _remember(session, duplicate)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReferenceProfile)) == 1
    assert session.get(Scan, scan.id) is not None
