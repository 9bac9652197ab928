"""A scan in warehouse mode: the live and performance windows are summarised by the source
database; only counts, bins and percentiles reach this process (docs/performance.md).

The reference is summarised once from its rows and cached, as in the exact path. Categorical
columns, null shares, row counts, latency percentiles and confusion-based metrics (binary
confusion counts, or a multiclass ``(target, prediction)`` count table) equal the exact
path's. Numerical columns are compared on counts per reference-quantile bin (the method runs
on the bins), unless their method needs the values (``ks``, ``wasserstein``, ...),
in which case just that column is read. Metrics that need the values (``roc_auc``,
``log_loss``, regression) read just their columns of the performance window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.orm import Session

from monitor.config.schema import ModelConfig
from monitor.scans.cache import reference_summary
from monitor.scans.columns import prediction_column, target_type
from monitor.scans.evaluate import CheckRow, _dataset_outcome, _output_test, ladders
from monitor.scans.summary import Summary
from monitor.sources import ModelLog
from monitor.sources import warehouse as sql

if TYPE_CHECKING:
    from checks.drift import ColumnProfile
    from checks.metrics import MetricValue
    from monitor.scans.run import ScanReport

LATENCY_QUANTILES = (50, 95, 99)


@dataclasses.dataclass
class _Window:
    """Summaries of one window: rows, drift profiles, and how each numerical one was made."""

    rows: int
    profiles: dict[str, ColumnProfile]
    reference: dict[str, ColumnProfile]  # the reference profile each is compared with
    binned: dict[str, int]


def scan_in_database(
    model: ModelConfig, report: ScanReport, log: ModelLog, session: Session
) -> None:
    summary, report.reference = reference_summary(model, log, report.window, session=session)
    ref = summary.whole
    pred_col, pred_kind = prediction_column(model)
    kinds = dict.fromkeys(model.features.numerical, "numerical")
    kinds |= dict.fromkeys(model.features.categorical, "categorical")
    kinds.setdefault(pred_col, pred_kind)
    live = _summarise(model, log, report.window, log.live_columns(), kinds, ref, target=False)
    perf = _performance(model, log, report, ref)
    seconds = (report.window.end - report.window.start).total_seconds()
    results = _feature_drift(model, live) + _output_drift(model, live, perf)
    values = _metric_values(model, log, report, live, perf, seconds)
    results += _thresholds(model, values, ref)
    report.results = results
    report.rows = {"reference": summary.rows, "live": live.rows, "labelled": perf["labelled"]}
    report.model_versions = _versions(model, log, report)
    report.metrics = _observed(model, values, ref)
    report.status = "no_data" if live.rows == 0 else ("failed" if report.failed else "ok")


def _summarise(
    model: ModelConfig,
    log: ModelLog,
    window: Any,
    columns: list[str],
    kinds: Mapping[str, str],
    ref: Summary,
    *,
    target: bool,
) -> _Window:
    from checks.drift import profile_column

    rows = sql.window_rows(log, window, columns, target=target)
    by_values = [c for c, k in kinds.items() if k == "numerical" and _needs_values(model, c)]
    edges = {
        c: sql.quantile_edges(ref.profiles[c].values)  # type: ignore[arg-type]
        for c, k in kinds.items()
        if k == "numerical" and c not in by_values and c in ref.profiles
    }
    total, present, bins = sql.counts(log, rows, edges)
    profiles: dict[str, ColumnProfile] = {}
    reference: dict[str, ColumnProfile] = {}
    for c, e in edges.items():
        r = ref.profiles[c]
        ref_bins = sql.bin_counts_sorted(r.values, e)  # type: ignore[arg-type]
        reference[c] = _bin_profile(ref_bins, r.null_count, r.total_count)
        profiles[c] = _bin_profile(bins[c], total - present[c], total)
    for c in by_values:  # their method needs the values: read this one column
        frame = log.rows(window, [c], with_target=False)
        profiles[c], reference[c] = profile_column(frame[c], "numerical", column=c), ref.profiles[c]
    for c in (c for c, k in kinds.items() if k == "categorical"):
        limit = model.checks.drift.max_categories
        keys, counts, capped = sql.value_counts(log, rows, c, limit=limit)
        profiles[c] = _count_profile(keys, counts, total, capped)
        reference[c] = ref.profiles[c]
    return _Window(total, profiles, reference, {c: e.size + 1 for c, e in edges.items()})


def _needs_values(model: ModelConfig, column: str) -> bool:
    from checks.drift import get_method

    method, _ = model.checks.drift.column_test(column)
    return method != "auto" and "categorical" not in get_method(method).column_types


def _bin_profile(counts: np.ndarray, nulls: int, total: int) -> ColumnProfile:
    from checks.drift import ColumnProfile

    keep = counts > 0  # as on rows: a value that never occurs is not a category
    keys = np.flatnonzero(keep).astype(np.int64)
    return ColumnProfile("categorical", nulls, total, keys=keys, counts=counts[keep])


def _count_profile(
    keys: list[Any], counts: list[int], total: int, capped: tuple[int, int] | None = None
) -> ColumnProfile:
    """A categorical profile of SQL counts; ``capped``: (rows not kept, distinct values)."""
    from checks.drift import ColumnProfile
    from checks.drift.categories import with_other

    arr = np.asarray(keys) if keys else np.asarray([], dtype=str)
    if arr.dtype.kind not in "biufU":
        arr = np.asarray([str(k) for k in keys], dtype=str)
    numbers = np.asarray(counts, dtype=np.int64)
    if capped is not None:
        arr, numbers = with_other(arr, numbers, capped[0])
    order = np.argsort(arr, kind="stable")
    values = numbers[order]
    return ColumnProfile(
        "categorical",
        total - int(values.sum()),
        total,
        keys=arr[order],
        counts=values,
        capped_from=None if capped is None else capped[1],
    )


def _performance(
    model: ModelConfig, log: ModelLog, report: ScanReport, ref: Summary
) -> dict[str, Any]:
    target = model.target_column
    if target is None:
        return {"labelled": None, "rows": 0, "confusion": None, "target": None}
    rows = sql.window_rows(log, report.performance_window, log.performance_columns(), target=True)
    total, present, _ = sql.counts(log, rows, {target: np.zeros(0)})
    out: dict[str, Any] = {"labelled": present[target], "rows": total, "confusion": None}
    if model.task == "binary_classification":
        out["confusion"] = sql.confusion(
            log, rows, target=target, prediction=model.prediction, score=model.score
        )
    elif model.task == "multiclass_classification":
        from checks.multiclass import class_counts_from_pairs

        assert model.prediction is not None  # the config requires it
        pairs = sql.class_pairs(log, rows, target=target, prediction=model.prediction)
        out["confusion"] = class_counts_from_pairs(pairs)
    out["target"] = None
    if target in ref.profiles:
        kinds = {target: target_type(model)}
        out["target"] = _summarise(
            model,
            log,
            report.performance_window,
            log.performance_columns(),
            kinds,
            ref,
            target=True,
        )
    return out


def _feature_drift(model: ModelConfig, live: _Window) -> list[CheckRow]:
    from checks.drift import ColumnSpec, compare_dataset

    features = model.features.all
    if not features or not model.checks.drift.enabled:
        return []
    cfg = model.checks.drift
    result = compare_dataset(
        {c: live.reference[c] for c in features},
        {c: live.profiles[c] for c in features},
        numerical=[c for c in features if live.profiles[c].column_type == "numerical"],
        categorical=[c for c in features if live.profiles[c].column_type == "categorical"],
        method=cfg.method,
        threshold=cfg.threshold,
        per_column={c: ColumnSpec(*cfg.column_test(c)) for c in cfg.per_column},
        share=cfg.share,
        correction=cfg.correction,
        missing_tolerance=cfg.missing_tolerance,
    )
    rows = [
        _check(
            _binned(o, live),
            cfg.per_column[o.column].severity if o.column in cfg.per_column else None,
        )
        for o in result.columns
    ]
    configured = {t.check_id for t in model.checks.thresholds}
    rows += [_check(o, cfg.severity) for o in result.missing if o.check not in configured]
    binned = dataclasses.replace(result, columns=tuple(_binned(o, live) for o in result.columns))
    rows.append(_check(_dataset_outcome(binned), cfg.severity))
    return rows


def _check(outcome: Any, severity: str | None) -> CheckRow:
    # Warehouse mode scans the whole window only (segment ""): segments are not supported yet.
    return CheckRow(outcome, "", severity if outcome.passed is False else None)


def _binned(outcome: Any, window: _Window) -> Any:
    """A numerical column judged on bins says so, and keeps its own column type."""
    bins = window.binned.get(outcome.column)
    if bins is None:
        return outcome
    details = {**outcome.details, "bins": bins, "binning": "reference quantiles (warehouse)"}
    return dataclasses.replace(outcome, column_type="numerical", details=details)


def _output_drift(model: ModelConfig, live: _Window, perf: dict[str, Any]) -> list[CheckRow]:
    from checks.drift import compare_column

    cfg, rows = model.checks.drift, []
    if not cfg.enabled:
        return []
    column, kind = prediction_column(model)
    if cfg.prediction and column in live.profiles and column in live.reference:
        rows.append(_compare(model, live, column, kind, "prediction_drift", compare_column))
    target, window = model.target_column, perf.get("target")
    if cfg.target and target and window is not None and target in window.profiles:
        rows.append(
            _compare(model, window, target, target_type(model), "target_drift", compare_column)
        )
    return [_check(o, cfg.severity) for o in rows]


def _compare(
    model: ModelConfig, window: _Window, column: str, kind: str, check: str, fn: Any
) -> Any:
    method, threshold = _output_test(model, kind)
    profile = window.profiles[column]
    outcome = fn(
        window.reference[column],
        profile,
        column=column,
        column_type=profile.column_type,
        method=method,
        threshold=threshold,
    )
    outcome = _binned(outcome, window)
    return dataclasses.replace(outcome, check=check, details={**outcome.details, "column": column})


def _thresholds(
    model: ModelConfig, values: dict[tuple[str, str | None], MetricValue], ref: Summary
) -> list[CheckRow]:
    from checks.metrics import MetricValue
    from checks.thresholds import evaluate_ladder

    rows = []
    for (name, column), entries in ladders(model.checks.thresholds).items():
        reference = None
        if name in ref.metrics:
            r = ref.metrics[name]
            reference = MetricValue(
                name=name, value=r["value"], labelled=r["labelled"], reason=r["reason"]
            )
        outcome, severity = evaluate_ladder(
            values[(name, column)],
            [e.bound() for e in entries],
            reference=reference,
            min_labels=max(e.min_labels for e in entries),
            column=column,
        )
        rows.append(_check(outcome, severity))
    return rows


def _metric_values(
    model: ModelConfig,
    log: ModelLog,
    report: ScanReport,
    live: _Window,
    perf: dict[str, Any],
    seconds: float,
) -> dict[tuple[str, str | None], MetricValue]:
    from monitor.scans.warehouse_metrics import metric_value

    wanted = {(t.metric, t.column) for t in model.checks.thresholds}
    wanted |= {("row_count", None), ("throughput", None)}
    if model.latency is not None:
        wanted |= {(f"latency_p{q}", None) for q in LATENCY_QUANTILES}
    if perf["confusion"] is not None:
        wanted |= {(name, None) for name in ("accuracy", "precision", "recall", "f1")}
    rows = sql.window_rows(log, report.window, log.live_columns(), target=False)
    return {
        key: metric_value(
            model, log, key, rows=rows, report=report, live=live, perf=perf, seconds=seconds
        )
        for key in sorted(wanted, key=lambda k: (k[0], k[1] or ""))
    }


def _observed(
    model: ModelConfig, values: dict[tuple[str, str | None], MetricValue], ref: Summary
) -> dict[str, Any]:
    operations: dict[str, Any] = {
        "row_count": values[("row_count", None)].value,
        "throughput_per_s": values[("throughput", None)].value,
    }
    for q in LATENCY_QUANTILES:
        if (f"latency_p{q}", None) in values:
            operations[f"latency_p{q}"] = values[(f"latency_p{q}", None)].value
    performance = {
        name: {
            "value": v.value,
            "labelled": v.labelled,
            "reason": v.reason,
            "baseline": ref.metrics.get(name, {}).get("value"),
        }
        for (name, column), v in values.items()
        if column is None and name in ("accuracy", "precision", "recall", "f1")
    }
    return {"operations": operations, "performance": performance}


def _versions(model: ModelConfig, log: ModelLog, report: ScanReport) -> list[str]:
    if model.model_version is None:
        return []
    rows = sql.window_rows(log, report.window, [model.model_version], target=False)
    return sorted(str(v) for v in sql.distinct(log, rows, model.model_version))
