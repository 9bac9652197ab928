"""A scan in warehouse mode: the live and performance windows are summarised by the source
database; only counts, bins and percentiles reach this process (docs/performance.md).

The result is the same :class:`~monitor.scans.window_summary.WindowSummary` the exact path
builds, judged by the same ``evaluate``. The reference is summarised once from its rows and
cached, as in the exact path. Categorical columns, null shares, row counts, latency
percentiles and confusion-based metrics (binary confusion counts, or a multiclass
``(target, prediction)`` count table) equal the exact path's. Numerical columns are
summarised as counts per reference-quantile bin (their test runs on the bins), unless their
method needs the values (``ks``, ``wasserstein``, ...), in which case just that column is
read. Metrics that need the values (``roc_auc``, ``log_loss``, regression) read just their
columns of the performance window. Segments are the same queries filtered on the segment
value, for the ``max_segments`` most frequent values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from checks.drift import ColumnProfile, get_method, profile_column
from checks.drift.categories import with_other
from checks.metrics import MetricValue
from checks.multiclass import ClassCounts, class_counts_from_pairs
from monitor.config.schema import ModelConfig
from monitor.scans.cache import reference_summary
from monitor.scans.columns import prediction_column, target_type
from monitor.scans.exact import Windows
from monitor.scans.observe import LATENCY_QUANTILES
from monitor.scans.summary import ReferenceSummary, Summary
from monitor.scans.warehouse_metrics import WindowCounts, metric_value
from monitor.scans.window_summary import MetricKey, SliceSummary, WindowSummary
from monitor.sources import ModelLog
from monitor.sources import warehouse as sql
from monitor.windows import Window


@dataclass(frozen=True)
class _Part:
    """One slice's rows: the whole window (``segment`` "") or one segment value's."""

    segment: str
    key: Any = None  # the segment column's value, as the database returns it

    def rows(self, model: ModelConfig, rows: sa.Subquery) -> sa.Subquery:
        if not self.segment:
            return rows
        assert model.segment is not None
        return sa.select(rows).where(rows.c[model.segment] == self.key).subquery("s")

    def frame(
        self, model: ModelConfig, log: ModelLog, window: Window, columns: list[str], *, target: bool
    ) -> pd.DataFrame:
        """Rows of just ``columns`` (for a check that needs the values), this slice's only."""
        if not self.segment:
            return log.rows(window, columns, with_target=target)
        assert model.segment is not None
        frame = log.rows(window, list(dict.fromkeys([*columns, model.segment])), with_target=target)
        keys = frame[model.segment].astype(str).where(frame[model.segment].notna())
        return frame[keys == self.segment]


@dataclass(frozen=True)
class _Profiles:
    """Drift summaries of one slice: profiles, the reference each is compared with, and how
    each numerical one was made."""

    rows: int
    profiles: dict[str, ColumnProfile]
    reference: dict[str, ColumnProfile]
    binned: dict[str, int]


def read_in_database(
    model: ModelConfig, log: ModelLog, windows: Windows, *, session: Session
) -> tuple[WindowSummary, ReferenceSummary, dict[str, Any]]:
    """The live window's summary from SQL aggregates, the reference summary and its descriptor."""
    reference, descriptor = reference_summary(model, log, windows.live, session=session)
    live_rows = sql.window_rows(log, windows.live, log.live_columns(), target=False)
    slices: dict[str, SliceSummary] = {}
    labelled: int | None = None
    values: dict[MetricKey, MetricValue] = {}
    for part in _parts(model, log, live_rows):
        ref = reference.segment(part.segment)
        slices[part.segment], slice_values, slice_labelled = _slice(model, log, windows, part, ref)
        if not part.segment:
            values, labelled = slice_values, slice_labelled
    return (
        WindowSummary(
            slices=slices,
            rows={"reference": reference.rows, "live": slices[""].rows, "labelled": labelled},
            model_versions=_versions(model, log, live_rows),
            observed=_observed(values, reference.whole),
        ),
        reference,
        descriptor,
    )


def _parts(model: ModelConfig, log: ModelLog, rows: sa.Subquery) -> list[_Part]:
    parts = [_Part("")]
    if model.segment is None:
        return parts
    keys, _counts, _capped = sql.value_counts(log, rows, model.segment, limit=model.max_segments)
    return parts + [_Part(str(key), key) for key in keys[: model.max_segments]]


def _slice(
    model: ModelConfig,
    log: ModelLog,
    windows: Windows,
    part: _Part,
    ref: Summary | None,
) -> tuple[SliceSummary, dict[MetricKey, MetricValue], int | None]:
    pred_col, pred_kind = prediction_column(model)
    kinds = dict.fromkeys(model.features.numerical, "numerical")
    kinds |= dict.fromkeys(model.features.categorical, "categorical")
    kinds.setdefault(pred_col, pred_kind)
    live_rows = part.rows(
        model, sql.window_rows(log, windows.live, log.live_columns(), target=False)
    )
    live = _summarise(model, log, windows.live, part, live_rows, kinds, ref)
    perf = _performance(model, log, windows, part, ref)
    counts = WindowCounts(
        rows=live.rows,
        labelled=perf["labelled"],
        performance_rows=perf["rows"],
        confusion=perf["confusion"],
        seconds=windows.seconds,
    )
    values = _metric_values(model, log, windows, part, live_rows, counts)
    target: _Profiles | None = perf["target"]
    reference = dict(live.reference)
    binned = dict(live.binned)
    if target is not None:
        reference |= target.reference
        binned |= target.binned
    summary = SliceSummary(
        segment=part.segment,
        rows=live.rows,
        columns=live.profiles,
        target=None if target is None else target.profiles[model.target_column or ""],
        metrics=values,
        binned=binned,
        reference=reference,
        capped=True,
    )
    return summary, values, perf["labelled"]


def _summarise(
    model: ModelConfig,
    log: ModelLog,
    window: Window,
    part: _Part,
    rows: sa.Subquery,
    kinds: Mapping[str, str],
    ref: Summary | None,
) -> _Profiles:
    if ref is None:  # a segment without a reference: no drift to judge, rows still count
        total, _, _ = sql.counts(log, rows, {})
        return _Profiles(total, {}, {}, {})
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
        frame = part.frame(model, log, window, [c], target=False)
        profiles[c] = profile_column(frame[c], "numerical", column=c)
    for c in (c for c, k in kinds.items() if k == "categorical"):
        limit = model.checks.drift.max_categories
        keys, counts, capped = sql.value_counts(log, rows, c, limit=limit)
        profiles[c] = _count_profile(keys, counts, total, capped)
    return _Profiles(total, profiles, reference, {c: e.size + 1 for c, e in edges.items()})


def _needs_values(model: ModelConfig, column: str) -> bool:
    method, _ = model.checks.drift.column_test(column)
    return method != "auto" and "categorical" not in get_method(method).column_types


def _bin_profile(counts: np.ndarray, nulls: int, total: int) -> ColumnProfile:
    keep = counts > 0  # as on rows: a value that never occurs is not a category
    keys = np.flatnonzero(keep).astype(np.int64)
    return ColumnProfile("categorical", nulls, total, keys=keys, counts=counts[keep])


def _count_profile(
    keys: list[Any], counts: list[int], total: int, capped: tuple[int, int] | None = None
) -> ColumnProfile:
    """A categorical profile of SQL counts; ``capped``: (rows not kept, distinct values)."""
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
    model: ModelConfig, log: ModelLog, windows: Windows, part: _Part, ref: Summary | None
) -> dict[str, Any]:
    target = model.target_column
    if target is None:
        return {"labelled": None, "rows": 0, "confusion": None, "target": None}
    window = windows.performance
    rows = sql.window_rows(log, window, log.performance_columns(), target=True)
    rows = part.rows(model, rows)
    total, present, _ = sql.counts(log, rows, {target: np.zeros(0)})
    out: dict[str, Any] = {"labelled": present[target], "rows": total, "confusion": None}
    out["confusion"] = _confusion(model, log, rows, target)
    out["target"] = None
    if ref is not None and target in ref.profiles:
        kinds = {target: target_type(model)}
        out["target"] = _summarise(model, log, window, part, rows, kinds, ref)
    return out


def _confusion(
    model: ModelConfig, log: ModelLog, rows: sa.Subquery, target: str
) -> dict[str, int] | ClassCounts | None:
    if model.task == "binary_classification":
        return sql.confusion(
            log, rows, target=target, prediction=model.prediction, score=model.score
        )
    if model.task == "multiclass_classification":
        assert model.prediction is not None  # the config requires it
        pairs = sql.class_pairs(log, rows, target=target, prediction=model.prediction)
        return class_counts_from_pairs(pairs)
    return None


def _metric_values(
    model: ModelConfig,
    log: ModelLog,
    windows: Windows,
    part: _Part,
    rows: sa.Subquery,
    counts: WindowCounts,
) -> dict[MetricKey, MetricValue]:
    wanted = {(t.metric, t.column) for t in model.checks.thresholds}
    wanted |= {("row_count", None), ("throughput", None)}
    if model.latency is not None:
        wanted |= {(f"latency_p{q}", None) for q in LATENCY_QUANTILES}
    if counts.confusion is not None:
        wanted |= {(name, None) for name in ("accuracy", "precision", "recall", "f1")}

    def values(columns: list[str]) -> pd.DataFrame:
        return part.frame(model, log, windows.performance, columns, target=True)

    return {
        key: metric_value(model, log, key, rows=rows, counts=counts, values=values)
        for key in sorted(wanted, key=lambda k: (k[0], k[1] or ""))
    }


def _observed(values: dict[MetricKey, MetricValue], ref: Summary) -> dict[str, Any]:
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


def _versions(model: ModelConfig, log: ModelLog, rows: sa.Subquery) -> tuple[str, ...]:
    if model.model_version is None:
        return ()
    return tuple(sorted(str(v) for v in sql.distinct(log, rows, model.model_version)))
