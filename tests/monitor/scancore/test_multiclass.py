"""A 3-class model end to end: config rules, metrics equal scikit-learn's on the scanned rows,
categorical drift of the predicted and the true class, and the status report's block."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sklearn import metrics as skm
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config, parse_config
from monitor.errors import ConfigError
from monitor.scans import run_scan, store_scan
from monitor.status import status_report
from monitor.store import CheckResult, Scan
from tests.monitor.scancore.conftest import (
    T0,
    day,
    make_config,
    multiclass_frame,
    multiclass_model,
    write,
)

Engines = Callable[[Config], Any]


def _tree(**model: Any) -> dict[str, Any]:
    return {
        "state_db": "sqlite://",
        "sources": {"logs": {"url": "sqlite://"}},
        "models": [multiclass_model(**model)],
    }


def _config_error(**model: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(_tree(**model), file="m.yaml")
    return str(caught.value)


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
def test_probability_metrics_are_a_config_error_for_multiclass(metric: str) -> None:
    thresholds = [{"metric": metric, "max": 0.9}]
    message = _config_error(checks={"thresholds": thresholds})
    assert f"m.yaml: models[zoo]: checks.thresholds ({metric}): {metric} needs" in message
    assert "per-class probabilities" in message and "multiclass_classification" in message


@pytest.mark.parametrize(("key", "value"), [("positive_label", "cat"), ("decision_threshold", 0.5)])
def test_binary_only_settings_are_rejected_when_set_for_multiclass(key: str, value: Any) -> None:
    message = _config_error(**{key: value})
    assert f"models[zoo]: {key} applies to binary_classification only" in message


def test_a_multiclass_model_needs_the_predicted_label() -> None:
    message = _config_error(prediction=None)
    assert "models[zoo]: a multiclass_classification model needs prediction" in message


def test_an_unknown_task_lists_multiclass_among_the_expected_values() -> None:
    assert "multiclass_classification" in _config_error(task="multiclass")


def _scan(config: Config, engines_for: Engines, session: Session, at_day: float) -> Scan:
    engines = engines_for(config)
    report = run_scan(config.model("zoo"), day(at_day), engines=engines, session=session)
    assert report.status != "error", report.error
    scan = store_scan(report, session=session)
    session.commit()
    return scan


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["animal"].notna() & frame["animal_pred"].notna()]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_multiclass_scan_judges_accuracy_and_macro_metrics_like_sklearn(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    reference = multiclass_frame(T0, 24, seed=1, hit_rate=0.9)
    live = multiclass_frame(day(1), 24, seed=2, hit_rate=0.5)
    live["id"] += len(reference)
    write(engine, pd.concat([reference, live]), "preds")
    thresholds = [
        {"metric": "accuracy", "min": 0.8, "severity": "critical"},
        {"metric": "accuracy", "max_drop": 0.5, "severity": "warning", "min_labels": 50},
        {"metric": "f1", "min": 0.2},
    ]
    config = make_config(db_url, multiclass_model(checks={"thresholds": thresholds}))
    scan = _scan(config, engines_for, session, 2)
    results: dict[str, CheckResult] = {r.check: r for r in scan.results if r.segment == ""}

    judged, baseline = _labelled(live), _labelled(reference)
    expected = skm.accuracy_score(judged["animal"], judged["animal_pred"])
    assert 0.5 < expected < 0.8  # the critical step fails, the drop step holds
    assert results["accuracy"].value == pytest.approx(expected, rel=1e-12)
    assert (results["accuracy"].passed, results["accuracy"].severity) == (False, "critical")
    macro_f1 = skm.f1_score(judged["animal"], judged["animal_pred"], average="macro")
    assert results["f1"].value == pytest.approx(macro_f1, rel=1e-12)
    assert results["f1"].passed is True
    assert scan.rows_labelled == live["animal"].notna().sum()

    assert results["prediction_drift"].method == "chisquare"  # categorical, 3 classes
    assert results["target_drift"].method == "chisquare"

    model = status_report(config, session=session, now=day(2)).as_json()["models"][0]
    performance = model["performance"]
    assert set(performance) == {"accuracy", "precision", "recall", "f1"}
    assert performance["accuracy"]["baseline"] == pytest.approx(
        skm.accuracy_score(baseline["animal"], baseline["animal_pred"]), rel=1e-12
    )
    recall = skm.recall_score(judged["animal"], judged["animal_pred"], average="macro")
    assert performance["recall"]["value"] == pytest.approx(recall, rel=1e-12)


def test_multiclass_accuracy_passes_when_the_model_is_right(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = multiclass_frame(T0, 48, seed=3, hit_rate=0.95)
    write(engine, frame, "preds")
    thresholds = [{"metric": "accuracy", "min": 0.8, "severity": "critical"}]
    config = make_config(db_url, multiclass_model(checks={"thresholds": thresholds}))
    scan = _scan(config, engines_for, session, 2)
    accuracy = next(r for r in scan.results if r.check == "accuracy" and r.segment == "")
    judged = _labelled(frame[frame["ts"] >= day(1).replace(tzinfo=None)])
    expected = skm.accuracy_score(judged["animal"], judged["animal_pred"])
    assert expected > 0.8
    assert accuracy.value == pytest.approx(expected, rel=1e-12) and accuracy.passed is True


def test_a_three_class_model_declared_binary_ends_its_scan_in_error_saying_what_to_declare(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, multiclass_frame(T0, 48, seed=4, hit_rate=0.9), "preds")
    binary = multiclass_model(task="binary_classification", positive_label="cat")
    binary["checks"] = {"thresholds": [{"metric": "accuracy", "min": 0.8}]}
    config = make_config(db_url, binary)
    report = run_scan(config.model("zoo"), day(2), engines=engines_for(config), session=session)
    assert report.status == "error"
    assert report.error is not None and "more than two classes" in report.error
    assert "task: multiclass_classification" in report.error
