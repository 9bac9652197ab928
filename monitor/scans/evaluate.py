"""The checks of one slice of a scan (the whole window or one segment), as check rows.

Check ids follow DESIGN.md: ``dataset_drift``, ``drift:<column>`` for every feature,
``missing_share:<column>``, ``prediction_drift``, ``target_drift`` and ``<metric>`` or
``<metric>:<column>`` for thresholds, where entries of one metric and column form one ladder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from checks.outcome import Outcome
from monitor.config.schema import ModelConfig, Threshold
from monitor.scans.columns import prediction_column, target_type
from monitor.scans.performance import metric_inputs
from monitor.scans.summary import Summary

if TYPE_CHECKING:
    import pandas as pd

    from checks.drift import DatasetDriftOutcome

# Metrics judged on the performance window (labels had label_delay to arrive).
LABEL_WINDOW_METRICS = ("label_coverage",)


@dataclass(frozen=True)
class CheckRow:
    """One outcome to store, with its segment ("" = whole window) and severity if failed."""

    outcome: Outcome
    segment: str = ""
    severity: str | None = None


@dataclass(frozen=True)
class Slice:
    """The rows one set of checks runs on."""

    live: pd.DataFrame
    performance: pd.DataFrame
    reference: Summary | None
    window_seconds: float
    segment: str = ""


def evaluate(model: ModelConfig, data: Slice) -> list[CheckRow]:
    rows: list[CheckRow] = []
    if model.checks.drift.enabled and data.reference is not None:
        rows += feature_drift(model, data)
        rows += output_drift(model, data)
    rows += thresholds(model, data)
    return rows


def feature_drift(model: ModelConfig, data: Slice) -> list[CheckRow]:
    from checks.drift import ColumnSpec, compare_dataset

    features = model.features.all
    if not features or data.reference is None:
        return []
    cfg = model.checks.drift
    result = compare_dataset(
        {c: data.reference.profiles[c] for c in features},
        data.live,  # only the listed columns are compared; a column subset would copy them
        numerical=model.features.numerical,
        categorical=model.features.categorical,
        method=cfg.method,
        threshold=cfg.threshold,
        per_column={c: ColumnSpec(*cfg.column_test(c)) for c in cfg.per_column},
        share=cfg.share,
        correction=cfg.correction,
        missing_tolerance=cfg.missing_tolerance,
        max_categories=cfg.max_categories,
    )
    rows = [
        _row(o, data, cfg.per_column[o.column].severity if o.column in cfg.per_column else None)
        for o in result.columns
    ]
    configured = {t.check_id for t in model.checks.thresholds}
    # A configured missing_share threshold replaces the drift-side comparison of that column.
    rows += [_row(o, data, cfg.severity) for o in result.missing if o.check not in configured]
    rows.append(_row(_dataset_outcome(result), data, cfg.severity))
    return rows


def _dataset_outcome(result: DatasetDriftOutcome) -> Outcome:
    judged = [c for c in result.columns if c.passed is not None]
    drifted = [c.column for c in result.columns if c.drifted]
    return Outcome(
        check="dataset_drift",
        method="share_drifted",
        value=result.share_drifted,
        threshold=result.share,
        passed=(not result.dataset_drift) if judged else None,
        reason=None if judged else "insufficient data",
        details={
            "drifted": drifted,
            "number_drifted": result.number_drifted,
            "columns": len(result.columns),
        },
    )


def output_drift(model: ModelConfig, data: Slice) -> list[CheckRow]:
    from checks.drift import compare_column

    assert data.reference is not None
    severity = model.checks.drift.severity
    rows: list[CheckRow] = []
    column, kind = prediction_column(model)
    if model.checks.drift.prediction and column in data.reference.profiles:
        method, threshold = _output_test(model, kind)
        outcome = compare_column(
            data.reference.profiles[column],
            data.live[column],
            column=column,
            column_type=kind,
            method=method,
            threshold=threshold,
            max_categories=model.checks.drift.max_categories,
        )
        rows.append(_row(_renamed(outcome, "prediction_drift", column), data, severity))
    target = model.target_column
    if model.checks.drift.target and target and target in data.reference.profiles:
        method, threshold = _output_test(model, target_type(model))
        outcome = compare_column(
            data.reference.profiles[target],
            data.performance[target].dropna(),
            column=target,
            column_type=target_type(model),
            method=method,
            threshold=threshold,
            max_categories=model.checks.drift.max_categories,
        )
        rows.append(_row(_renamed(outcome, "target_drift", target), data, severity))
    return rows


def _output_test(model: ModelConfig, kind: str) -> tuple[str, float | None]:
    """The model's drift method and threshold, where the method applies to this column type
    (as Evidently's preset applies one setting to every column); else the default choice."""
    from checks.drift import get_method

    cfg = model.checks.drift
    if cfg.method == "auto" or kind in get_method(cfg.method).column_types:
        return cfg.method, cfg.threshold
    return "auto", None


def _renamed(outcome: Outcome, check: str, column: str) -> Outcome:
    return dataclasses.replace(outcome, check=check, details={**outcome.details, "column": column})


def thresholds(model: ModelConfig, data: Slice) -> list[CheckRow]:
    from checks.metrics import MetricValue
    from checks.registry import get_metric
    from checks.thresholds import evaluate_ladder

    rows = []
    for (name, column), entries in ladders(model.checks.thresholds).items():
        metric = get_metric(name)
        on_labels = metric.needs_labels or name in LABEL_WINDOW_METRICS
        frame = data.performance if on_labels else data.live
        inputs = metric_inputs(
            model, frame, window_seconds=data.window_seconds, feature_columns=not on_labels
        )
        current = metric.compute(inputs, column)
        reference = None
        if data.reference is not None and name in data.reference.metrics:
            ref = data.reference.metrics[name]
            reference = MetricValue(
                name=name, value=ref["value"], labelled=ref["labelled"], reason=ref["reason"]
            )
        outcome, severity = evaluate_ladder(
            current,
            [e.bound() for e in entries],
            reference=reference,
            min_labels=max(e.min_labels for e in entries),
            column=column,
        )
        rows.append(_row(outcome, data, severity))
    return rows


def ladders(entries: list[Threshold]) -> dict[tuple[str, str | None], list[Threshold]]:
    """Threshold entries grouped by (metric, column), in config order: one check each."""
    groups: dict[tuple[str, str | None], list[Threshold]] = {}
    for entry in entries:
        groups.setdefault((entry.metric, entry.column), []).append(entry)
    return groups


def _row(outcome: Outcome, data: Slice, severity: str | None) -> CheckRow:
    return CheckRow(outcome, data.segment, severity if outcome.passed is False else None)
