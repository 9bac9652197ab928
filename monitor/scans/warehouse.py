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
columns of the performance window. Segments are the same aggregates filtered on the segment
value, for the ``max_segments`` most frequent values.

Every aggregate of every slice is asked of one :class:`~monitor.sources.batch.Batch` first
and read after it has run, so the summary is one statement (a round trip costs up to a
second on Spark): each ``_slice`` / ``_summarise`` asks, then returns the call that builds
its part from the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from monitor.sources.batch import Batch
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
    """The live window's summary from SQL aggregates, the reference summary and its descriptor.

    The summary is one statement (monitor/sources/batch.py); a segmented model first asks
    for its ``max_segments`` most frequent segment values (a second statement). Columns
    whose method needs the values, and metrics that do, are read after it, one read each.
    """
    reference, descriptor = reference_summary(model, log, windows.live, session=session)
    live_rows = sql.window_rows(log, windows.live, log.live_columns(), target=False)
    batch = Batch(log)
    planned = {
        part.segment: _slice(model, log, batch, windows, part, live_rows, ref)
        for part in _parts(model, log, live_rows)
        for ref in [reference.segment(part.segment)]
    }
    versions = _versions(model, batch, live_rows)
    batch.run()
    slices: dict[str, SliceSummary] = {}
    labelled: int | None = None
    values: dict[MetricKey, MetricValue] = {}
    for segment, finish in planned.items():
        slices[segment], slice_values, slice_labelled = finish()
        if not segment:
            values, labelled = slice_values, slice_labelled
    return (
        WindowSummary(
            slices=slices,
            rows={"reference": reference.rows, "live": slices[""].rows, "labelled": labelled},
            model_versions=versions(),
            observed=_observed(values, reference.whole),
        ),
        reference,
        descriptor,
    )


def _parts(model: ModelConfig, log: ModelLog, rows: sa.Subquery) -> list[_Part]:
    parts = [_Part("")]
    if model.segment is None:
        return parts
    batch = Batch(log)
    found = sql.value_counts(batch, rows, model.segment, limit=model.max_segments)
    batch.run()
    keys, _counts, _capped = found()
    return parts + [_Part(str(key), key) for key in keys[: model.max_segments]]


_Finished = tuple[SliceSummary, dict[MetricKey, MetricValue], int | None]


def _slice(
    model: ModelConfig,
    log: ModelLog,
    batch: Batch,
    windows: Windows,
    part: _Part,
    whole: sa.Subquery,
    ref: Summary | None,
) -> Callable[[], _Finished]:
    """Ask ``batch`` for one slice's aggregates; the returned call builds its summary."""
    pred_col, pred_kind = prediction_column(model)
    kinds = dict.fromkeys(model.features.numerical, "numerical")
    kinds |= dict.fromkeys(model.features.categorical, "categorical")
    kinds.setdefault(pred_col, pred_kind)
    live_rows = part.rows(model, whole)
    live_asked = _summarise(model, log, batch, windows.live, part, live_rows, kinds, ref)
    perf_asked = _performance(model, log, batch, windows, part, ref)
    wanted = _wanted_metrics(model)
    ops = _operational(model, batch, live_rows, wanted)

    def finish() -> _Finished:
        live, perf = live_asked(), perf_asked()
        counts = WindowCounts(
            rows=live.rows,
            labelled=perf["labelled"],
            performance_rows=perf["rows"],
            confusion=perf["confusion"],
            seconds=windows.seconds,
            percentiles={q: found() for q, found in ops["percentiles"].items()},
            nulls={c: found() for c, found in ops["nulls"].items()},
        )
        values = _metric_values(model, log, windows, part, wanted, counts)
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

    return finish


def _summarise(
    model: ModelConfig,
    log: ModelLog,
    batch: Batch,
    window: Window,
    part: _Part,
    rows: sa.Subquery,
    kinds: Mapping[str, str],
    ref: Summary | None,
) -> Callable[[], _Profiles]:
    if ref is None:  # a segment without a reference: no drift to judge, rows still count
        rows_only = sql.counts(batch, rows, {})
        return lambda: _Profiles(rows_only()[0], {}, {}, {})
    by_values = [c for c, k in kinds.items() if k == "numerical" and _needs_values(model, c)]
    edges = {
        c: sql.quantile_edges(ref.profiles[c].values)  # type: ignore[arg-type]
        for c, k in kinds.items()
        if k == "numerical" and c not in by_values and c in ref.profiles
    }
    counted = sql.counts(batch, rows, edges)
    limit = model.checks.drift.max_categories
    categories = {
        c: sql.value_counts(batch, rows, c, limit=limit)
        for c, k in kinds.items()
        if k == "categorical"
    }

    def profiles() -> _Profiles:
        total, present, bins = counted()
        found: dict[str, ColumnProfile] = {}
        reference: dict[str, ColumnProfile] = {}
        for c, e in edges.items():
            r = ref.profiles[c]
            ref_bins = sql.bin_counts_sorted(r.values, e)  # type: ignore[arg-type]
            reference[c] = _bin_profile(ref_bins, r.null_count, r.total_count)
            found[c] = _bin_profile(bins[c], total - present[c], total)
        for c in by_values:  # their method needs the values: read this one column
            frame = part.frame(model, log, window, [c], target=False)
            found[c] = profile_column(frame[c], "numerical", column=c)
        for c, counts_of in categories.items():
            keys, counts, capped = counts_of()
            found[c] = _count_profile(keys, counts, total, capped)
        return _Profiles(total, found, reference, {c: e.size + 1 for c, e in edges.items()})

    return profiles


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
    model: ModelConfig,
    log: ModelLog,
    batch: Batch,
    windows: Windows,
    part: _Part,
    ref: Summary | None,
) -> Callable[[], dict[str, Any]]:
    target = model.target_column
    if target is None:
        return lambda: {"labelled": None, "rows": 0, "confusion": None, "target": None}
    window = windows.performance
    rows = sql.window_rows(log, window, log.performance_columns(), target=True)
    rows = part.rows(model, rows)
    counted = sql.counts(batch, rows, {target: np.zeros(0)})
    confusion = _confusion(model, batch, rows, target)
    profiles = None
    if ref is not None and target in ref.profiles:
        kinds = {target: target_type(model)}
        profiles = _summarise(model, log, batch, window, part, rows, kinds, ref)

    def found() -> dict[str, Any]:
        total, present, _ = counted()
        return {
            "labelled": present[target],
            "rows": total,
            "confusion": None if confusion is None else confusion(),
            "target": None if profiles is None else profiles(),
        }

    return found


def _confusion(
    model: ModelConfig, batch: Batch, rows: sa.Subquery, target: str
) -> Callable[[], dict[str, int] | ClassCounts] | None:
    if model.task == "binary_classification":
        return sql.confusion(
            batch, rows, model, target=target, prediction=model.prediction, score=model.score
        )
    if model.task == "multiclass_classification":
        assert model.prediction is not None  # the config requires it
        pairs = sql.class_pairs(batch, rows, target=target, prediction=model.prediction)
        return lambda: class_counts_from_pairs(pairs())
    return None


def _wanted_metrics(model: ModelConfig) -> set[MetricKey]:
    wanted: set[MetricKey] = {(t.metric, t.column) for t in model.checks.thresholds}
    wanted |= {("row_count", None), ("throughput", None)}
    if model.latency is not None:
        wanted |= {(f"latency_p{q}", None) for q in LATENCY_QUANTILES}
    classes = model.task in ("binary_classification", "multiclass_classification")
    if classes and model.target_column is not None:  # confusion counts: these come free
        wanted |= {(name, None) for name in ("accuracy", "precision", "recall", "f1")}
    return wanted


def _operational(
    model: ModelConfig, batch: Batch, rows: sa.Subquery, wanted: set[MetricKey]
) -> dict[str, dict[Any, Callable[[], Any]]]:
    """The latency percentiles and null counts the wanted metrics need, asked of ``batch``."""
    percentiles: dict[float, Callable[[], float | None]] = {}
    nulls: dict[str, Callable[[], int]] = {}
    for name, column in wanted:
        if name.startswith("latency_p") and model.latency is not None:
            q = float(name[len("latency_p") :])
            percentiles[q] = sql.percentile(batch, rows, model.latency, q)
        elif name == "missing_share" and column is not None:
            nulls[column] = sql.null_count(batch, rows, column)
    return {"percentiles": percentiles, "nulls": nulls}


def _metric_values(
    model: ModelConfig,
    log: ModelLog,
    windows: Windows,
    part: _Part,
    wanted: set[MetricKey],
    counts: WindowCounts,
) -> dict[MetricKey, MetricValue]:
    def values(columns: list[str]) -> pd.DataFrame:
        return part.frame(model, log, windows.performance, columns, target=True)

    return {
        key: metric_value(model, key, counts=counts, values=values)
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


def _versions(model: ModelConfig, batch: Batch, rows: sa.Subquery) -> Callable[[], tuple[str, ...]]:
    if model.model_version is None:
        return tuple
    found = sql.distinct(batch, rows, model.model_version)
    return lambda: tuple(sorted(str(v) for v in found()))
