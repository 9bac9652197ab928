"""The checks of a scan: one window summary and the reference summary in, check rows out.

Both scan modes call :func:`evaluate`, so a check runs the same test in both; a numerical
column that only has bins (warehouse mode) runs its test on the bins and says so in its
details. Check ids follow DESIGN.md: ``dataset_drift``, ``drift:<column>`` for every
feature, ``missing_share:<column>``, ``prediction_drift``, ``target_drift`` and ``<metric>``
or ``<metric>:<column>`` for thresholds, where entries of one metric and column form one ladder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from checks.drift import ColumnSpec, compare_column, compare_dataset, get_method, profile_dataset
from checks.drift.compare import as_profile
from checks.drift.effect import effect_size
from checks.metrics import MetricValue
from checks.outcome import Outcome
from checks.phrases import effect_phrase
from checks.thresholds import evaluate_ladder
from monitor.config.schema import FITTED_METRICS, ModelConfig, Threshold
from monitor.scans import calibration
from monitor.scans.columns import ColumnType, prediction_column, target_type
from monitor.scans.estimates import fitted_checks
from monitor.scans.result import CheckRow, too_few
from monitor.scans.summary import ReferenceSummary, Summary
from monitor.scans.window_summary import SliceSummary, WindowSummary
from monitor.sources.warehouse import quantile_edges

if TYPE_CHECKING:
    from checks.drift import DatasetDriftOutcome, DriftOutcome

# Metrics judged on the performance window (labels had label_delay to arrive).
LABEL_WINDOW_METRICS = ("label_coverage",)


def evaluate(
    summary: WindowSummary, reference: ReferenceSummary, model: ModelConfig
) -> list[CheckRow]:
    """Every check of every slice; a segment without a reference slice skips drift.

    Calibrated mode splits its per-scan false-alarm rate over every drift check of every
    slice with a reference: a scan's drift alert fires when any segment drifts."""
    rows: list[CheckRow] = []
    drift = model.checks.drift
    slices = sum(
        1
        for segment in summary.slices
        if reference.segment(segment) is not None and (not segment or drift.segments)
    )
    for segment, data in summary.slices.items():
        rows += evaluate_slice(data, reference.segment(segment), model, slices=max(slices, 1))
    for segment, data in summary.slices.items():
        rows += fitted_checks(model, data, reference.segment(segment), reference.fits)
    return rows


def evaluate_slice(
    data: SliceSummary, reference: Summary | None, model: ModelConfig, *, slices: int = 1
) -> list[CheckRow]:
    rows: list[CheckRow] = []
    drift = model.checks.drift
    if drift.enabled and reference is not None and (not data.segment or drift.segments):
        if data.segment and drift.mode == "evidently" and data.rows < drift.min_rows:
            # calibrated mode judges min_rows per column; evidently mode per segment here
            whole = Outcome(
                check="dataset_drift",
                method="share_drifted",
                value=None,
                threshold=None,
                passed=None,
            )
            rows.append(_row(too_few(whole, data, drift.min_rows), data, None))
        else:
            rows += feature_drift(model, data, reference, slices=slices)
            rows += output_drift(model, data, reference, slices=slices)
    rows += thresholds(model, data, reference)
    return rows


def feature_drift(
    model: ModelConfig, data: SliceSummary, reference: Summary, *, slices: int = 1
) -> list[CheckRow]:
    features = model.features.all
    if not features:
        return []
    cfg = model.checks.drift
    if cfg.mode == "calibrated":
        return calibrated_feature_drift(model, data, reference, slices=slices)
    binned = [c for c in model.features.numerical if c in data.binned]
    numerical = [c for c in model.features.numerical if c not in data.binned]
    types: dict[str, ColumnType] = {c: "numerical" for c in numerical}
    types |= {c: "categorical" for c in [*model.features.categorical, *binned]}
    cap = None if data.capped else cfg.max_categories
    # profiled once: the test and the effect size read the same sorted values
    current = profile_dataset(data.columns, types, max_categories=cap)
    _keep_sorted(data, current, types)
    result = compare_dataset(
        {c: data.reference.get(c, reference.profiles[c]) for c in features},
        current,
        numerical=numerical,
        categorical=[*model.features.categorical, *binned],
        method=cfg.method,
        threshold=cfg.threshold,
        per_column={c: ColumnSpec(*cfg.column_test(c)) for c in cfg.per_column},
        share=cfg.share,
        correction=cfg.correction,
        missing_tolerance=cfg.missing_tolerance,
        max_categories=cap,
    )
    # a categorical effect lists every category, so it takes the uncapped values
    uncapped = {c: current[c] if t == "numerical" else data.columns[c] for c, t in types.items()}
    result = dataclasses.replace(
        result,
        columns=tuple(
            _with_effect(_binned(o, data), data, reference, uncapped[o.column])
            for o in result.columns
        ),
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


def calibrated_feature_drift(
    model: ModelConfig, data: SliceSummary, reference: Summary, *, slices: int = 1
) -> list[CheckRow]:
    """Feature drift in calibrated mode: thresholds learnt on the reference (calibration.py)."""
    cfg = model.checks.drift
    types: dict[str, ColumnType] = {c: "numerical" for c in model.features.numerical}
    types |= {c: "categorical" for c in model.features.categorical}
    split = drift_columns(model, reference) * slices
    # profiled once (in parallel): the verdict and the missing share read the same profile
    profiled = {c: "categorical" if c in data.binned else t for c, t in types.items()}
    current = profile_dataset(data.columns, profiled)
    _keep_sorted(data, current, profiled)
    outcomes = [
        _calibrated(model, data, reference, c, t, current[c], split=split) for c, t in types.items()
    ]
    rows = [
        _row(o, data, cfg.per_column[o.column].severity if o.column in cfg.per_column else None)
        for o in outcomes
    ]
    configured = {t.check_id for t in model.checks.thresholds}
    missing = calibration.missing_checks(
        cfg, {c: data.reference.get(c, reference.profiles[c]) for c in types}, current, types
    )
    rows += [_row(o, data, cfg.severity) for o in missing if o.check not in configured]
    dataset = calibration.dataset_outcome(outcomes, cfg, split=split)
    rows.append(_row(dataset, data, cfg.severity))
    return rows


def _keep_sorted(data: SliceSummary, current: dict[str, Any], types: dict[str, ColumnType]) -> None:
    """Remember the numerical profiles made from the rows (not from warehouse profiles),
    when the scan keeps its window (see SliceSummary)."""
    if data.sorted is not None and _rows(data):
        data.sorted.update({c: current[c] for c, t in types.items() if t == "numerical"})


def _rows(data: SliceSummary) -> bool:
    """Whether the slice holds the rows' values (exact mode), not profiles (warehouse)."""
    return not isinstance(data.columns, Mapping)


def _calibrated(
    model: ModelConfig,
    data: SliceSummary,
    reference: Summary,
    column: str,
    kind: ColumnType,
    current: Any,
    *,
    split: int,
) -> DriftOutcome:
    binned = column in data.binned
    ref = data.reference.get(column, reference.profiles[column])
    outcome = calibration.judge(
        model.checks.drift,
        reference.calibrations,
        segment=data.segment,
        column=column,
        column_type=kind,
        reference=ref,
        current=current,
        binned=binned,
        columns=split,
    )
    if not binned:
        return outcome
    details = {
        **outcome.details,
        "bins": data.binned[column],
        "binning": "reference quantiles (warehouse)",
    }
    values = reference.profiles[column].values
    if outcome.passed is not None and values is not None:
        effect = calibration.binned_effect(column, values, quantile_edges(values), ref, current)
        if effect is not None:
            details["effect"] = effect
    return dataclasses.replace(outcome, details=details)


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
            "effects": [p for c in result.columns if c.drifted and (p := effect_phrase(c.details))],
            "number_drifted": result.number_drifted,
            "columns": len(result.columns),
        },
    )


def _with_effect(
    outcome: DriftOutcome, data: SliceSummary, reference: Summary, current: Any
) -> DriftOutcome:
    """Evidently mode's result with the effect size calibrated mode gives (what changed, read
    first in every text); not for warehouse bins or a window with insufficient data."""
    column = outcome.column
    if outcome.passed is None or column in data.binned:
        return outcome
    kind = outcome.column_type
    ref = as_profile(data.reference.get(column, reference.profiles[column]), kind, column, "ref")
    cur = as_profile(current, kind, column, "current")
    if ref.count == 0 or cur.count == 0:
        return outcome
    effect = effect_size(ref, cur, column=column).to_json_dict()
    return dataclasses.replace(outcome, details={**outcome.details, "effect": effect})


def _binned(outcome: DriftOutcome, data: SliceSummary) -> DriftOutcome:
    """A numerical column judged on bins says so, and keeps its own column type."""
    bins = data.binned.get(outcome.column)
    if bins is None:
        return outcome
    details = {**outcome.details, "bins": bins, "binning": "reference quantiles (warehouse)"}
    return dataclasses.replace(outcome, column_type="numerical", details=details)


def output_drift(
    model: ModelConfig, data: SliceSummary, reference: Summary, *, slices: int = 1
) -> list[CheckRow]:
    cfg = model.checks.drift
    rows: list[CheckRow] = []
    column, kind = prediction_column(model)
    calibrated = cfg.mode == "calibrated"
    split = drift_columns(model, reference) * slices

    def judge(column: str, kind: ColumnType, current: Any) -> DriftOutcome:
        if calibrated:
            return _calibrated(model, data, reference, column, kind, current, split=split)
        return _output(model, data, reference, column, kind, current)

    if cfg.prediction and column in reference.profiles:
        current = data.columns[column]
        if kind == "numerical" and column not in data.binned and _rows(data):
            # sorted once for the test and the effect size, and kept (see SliceSummary)
            current = as_profile(current, kind, column, "current")
            if data.sorted is not None:
                data.sorted[column] = current
        outcome = judge(column, kind, current)
        rows.append(_row(_renamed(outcome, "prediction_drift", column), data, cfg.severity))
    target = model.target_column
    if cfg.target and target and target in reference.profiles and data.target is not None:
        outcome = judge(target, target_type(model), data.target)
        rows.append(_row(_renamed(outcome, "target_drift", target), data, cfg.severity))
    return rows


def drift_columns(model: ModelConfig, reference: Summary) -> int:
    """The drift checks of one slice (features, prediction, target); calibrated mode splits
    its per-scan false-alarm rate over these times the scan's slices. Target drift counts
    even before labels arrive: the split, and so the cached thresholds, stay the same."""
    cfg = model.checks.drift
    column, _ = prediction_column(model)
    target = model.target_column
    return (
        len(model.features.numerical)
        + len(model.features.categorical)
        + int(cfg.prediction and column in reference.profiles)
        + int(bool(cfg.target and target and target in reference.profiles))
    )


def _output(
    model: ModelConfig,
    data: SliceSummary,
    reference: Summary,
    column: str,
    kind: ColumnType,
    current: Any,
) -> DriftOutcome:
    method, threshold = _output_test(model, kind)
    outcome = compare_column(
        data.reference.get(column, reference.profiles[column]),
        current,
        column=column,
        column_type="categorical" if column in data.binned else kind,
        method=method,
        threshold=threshold,
        max_categories=None if data.capped else model.checks.drift.max_categories,
    )
    return _with_effect(_binned(outcome, data), data, reference, current)


def _output_test(model: ModelConfig, kind: str) -> tuple[str, float | None]:
    """The model's drift method and threshold, where the method applies to this column type
    (as Evidently's preset applies one setting to every column); else the default choice."""
    cfg = model.checks.drift
    if cfg.method == "auto" or kind in get_method(cfg.method).column_types:
        return cfg.method, cfg.threshold
    return "auto", None


def _renamed(outcome: Outcome, check: str, column: str) -> Outcome:
    return dataclasses.replace(outcome, check=check, details={**outcome.details, "column": column})


def thresholds(model: ModelConfig, data: SliceSummary, reference: Summary | None) -> list[CheckRow]:
    rows = []
    for (name, column), entries in ladders(model.checks.thresholds).items():
        if data.segment and not entries[0].per_segment:
            continue
        baseline = None
        if reference is not None and name in reference.metrics:
            ref = reference.metrics[name]
            baseline = MetricValue(
                name=name, value=ref["value"], labelled=ref["labelled"], reason=ref["reason"]
            )
        outcome, severity = evaluate_ladder(
            data.metrics[(name, column)],
            [e.bound() for e in entries],
            reference=baseline,
            min_labels=max(e.min_labels for e in entries),
            column=column,
        )
        min_rows = max(e.min_rows or 0 for e in entries)
        if data.segment and data.rows < min_rows:
            outcome, severity = too_few(outcome, data, min_rows), None
        rows.append(_row(outcome, data, severity))
    return rows


def ladders(entries: list[Threshold]) -> dict[tuple[str, str | None], list[Threshold]]:
    """Threshold entries grouped by (metric, column), in config order: one check each.
    Metrics judged by a fit on the reference are not here (monitor/scans/estimates.py)."""
    groups: dict[tuple[str, str | None], list[Threshold]] = {}
    for entry in entries:
        if entry.metric in FITTED_METRICS:
            continue
        groups.setdefault((entry.metric, entry.column), []).append(entry)
    return groups


def _row(outcome: Outcome, data: SliceSummary, severity: str | None) -> CheckRow:
    return CheckRow(outcome, data.segment, severity if outcome.passed is False else None)
