"""The exact path of a scan: read the window's rows and summarise them by their values.

Drift tests run on the values themselves (the summary keeps the rows' columns), and every
threshold metric is computed from the rows by the checks library.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from checks.errors import ChecksError
from checks.names import ESTIMATED
from checks.registry import get_metric
from monitor.config.schema import ModelConfig
from monitor.scans.cache import (
    load_reference,
    plan_live_profile,
    plan_reference,
    remember_live_profile,
)
from monitor.scans.columns import segment_frames, top_segments
from monitor.scans.evaluate import LABEL_WINDOW_METRICS, ladders
from monitor.scans.observe import observe
from monitor.scans.performance import WindowInputs
from monitor.scans.summary import ReferenceSummary
from monitor.scans.timing import Clock
from monitor.scans.window_summary import SliceSummary, WindowSummary
from monitor.sources import ModelLog
from monitor.windows import Window


@dataclass(frozen=True)
class Windows:
    """The windows one scan reads: live rows, and the rows whose labels had time to arrive."""

    live: Window
    performance: Window

    @property
    def seconds(self) -> float:
        return (self.live.end - self.live.start).total_seconds()


def read_exact(
    model: ModelConfig, log: ModelLog, windows: Windows, *, session: Session, clock: Clock
) -> tuple[
    WindowSummary, ReferenceSummary, dict[str, Any], Callable[[], Callable[[], None]] | None
]:
    """The live window's summary, the reference summary, the reference's descriptor, and
    what to do once the checks are done (keep the live window as the next scan's rolling
    reference: after the checks, so that the reference's profiles are freed first; it
    returns the step that stores it, to call once the live rows are let go)."""
    shared = _one_read(model, windows)
    with clock("reference"):
        plan = plan_reference(model, log, windows.live, session=session)
        # counted before the live rows are read: rows arriving meanwhile change it
        keep = plan_live_profile(
            model, log, windows.live, session=session, with_target=shared or model.target is None
        )
    read = partial(log.rows, windows.live, log.live_columns(), with_target=shared)
    if plan.cached:
        log.prepare()  # reflection and the timestamp sample, once, before two threads read
        with ThreadPoolExecutor(1, thread_name_prefix="live-read") as pool:
            # A cached profile loads while the live rows are read (the read waits mostly on
            # the database and the driver's C code). Rows to summarise are read first, so
            # that the two windows are not held at once. An error in the reference still
            # wins, after the read has finished.
            live_read = pool.submit(clock.timed, "load_live", read)
            with clock("reference_load"):
                reference, descriptor = load_reference(plan, session=session)
            live = live_read.result()
    else:
        with clock("reference_load"):
            reference, descriptor = load_reference(plan, session=session)
        live = clock.timed("load_live", read)
    with clock("load_performance"):
        if shared:
            performance = live[[*log.performance_columns(), model.target_column]]
        else:
            performance = _performance_rows(model, log, windows, live)
    with clock("summary"):
        summary = summarise_rows(
            model, live, performance, reference, windows, keep_sorted=keep is not None
        )
    after: Callable[[], Callable[[], None]] | None = None
    if keep is not None:  # the next window's `previous` reference (monitor/scans/cache.py)
        # what the checks make from these rows is stored, not made again: the numerical
        # columns they sort (filled in by the checks, which run before `after`) and the
        # performance metrics, computed on these very rows when the target is one of them
        observed = summary.observed["performance"] if shared else None
        metrics = None if observed is None else {k: _bare(v) for k, v in observed.items()}
        made = summary.whole.sorted
        after = partial(
            remember_live_profile, model, keep, live, session=session, made=made, metrics=metrics
        )
    return summary, reference, descriptor, after


def _bare(observed: dict[str, Any]) -> dict[str, Any]:
    """An observed performance metric as a summary keeps it (without its baseline)."""
    return {k: v for k, v in observed.items() if k != "baseline"}


def summarise_rows(
    model: ModelConfig,
    live: pd.DataFrame,
    performance: pd.DataFrame,
    reference: ReferenceSummary,
    windows: Windows,
    *,
    keep_sorted: bool = False,
) -> WindowSummary:
    """``keep_sorted``: the whole window's checks leave their sorted columns in its slice
    (the scan keeps the window as the next one's reference)."""
    whole = WindowInputs(model, live, performance, windows.seconds)
    slices = {"": _slice(model, "", whole, keep_sorted)}
    values = top_segments(model, live, limit=model.max_segments)
    perf_parts = dict(segment_frames(model, performance, limit=0, values=values))
    for value, part in segment_frames(model, live, limit=0, values=values):
        perf = perf_parts.get(value, performance.iloc[0:0])
        slices[value] = _slice(model, value, WindowInputs(model, part, perf, windows.seconds))
    return WindowSummary(
        slices=slices,
        rows={
            "reference": reference.rows,
            "live": len(live),
            "labelled": _labelled(model, performance),
        },
        model_versions=_versions(model, live),
        observed=observe(model, live, performance, reference.whole, windows.live, whole),
    )


def _slice(
    model: ModelConfig, segment: str, inputs: WindowInputs, keep_sorted: bool = False
) -> SliceSummary:
    target = model.target_column
    live, performance = inputs.frames
    return SliceSummary(
        segment=segment,
        rows=len(live),
        columns=live,
        target=performance[target].dropna() if target in performance.columns else None,
        metrics=_metrics(model, inputs),
        sorted={} if keep_sorted else None,
    )


def _metrics(model: ModelConfig, inputs: WindowInputs) -> dict[tuple[str, str | None], Any]:
    values = {}
    for name, column in ladders(model.checks.thresholds):
        metric = get_metric(name)
        on_labels = metric.needs_labels or name in LABEL_WINDOW_METRICS
        values[(name, column)] = metric.compute(
            inputs.performance if on_labels else inputs.live, column
        )
    # the realised value beside each estimate (monitor/scans/estimates.py)
    realised = {ESTIMATED[t.metric] for t in model.checks.thresholds if t.metric in ESTIMATED}
    for name in sorted(realised - {n for n, _ in values}):
        try:
            values[(name, None)] = get_metric(name).compute(inputs.performance)
        except ChecksError:  # a multiclass roc_auc: one score column cannot give it
            continue
    return values


def _one_read(model: ModelConfig, windows: Windows) -> bool:
    """Whether the performance rows are the live rows plus the target (no label delay, the
    target a column of the log): then one read serves both, which halves a large scan's I/O."""
    return windows.performance == windows.live and isinstance(model.target, str)


def _performance_rows(
    model: ModelConfig, log: ModelLog, windows: Windows, live: pd.DataFrame
) -> pd.DataFrame:
    if model.target is None:
        return live.iloc[0:0]
    return log.rows(windows.performance, log.performance_columns(), with_target=True)


def _labelled(model: ModelConfig, performance: pd.DataFrame) -> int | None:
    target = model.target_column
    if target is None or target not in performance.columns:
        return None
    return int(performance[target].notna().sum())


def _versions(model: ModelConfig, live: pd.DataFrame) -> tuple[str, ...]:
    if model.model_version is None:
        return ()
    return tuple(sorted(str(v) for v in live[model.model_version].dropna().unique()))
