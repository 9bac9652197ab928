"""Run one model's scan for one window end: load, check, and report (storing is separate)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from monitor.config.load import model_config_hash
from monitor.config.schema import ModelConfig
from monitor.scans.cache import load_reference, plan_reference
from monitor.scans.columns import segment_frames, top_segments
from monitor.scans.evaluate import CheckRow, Slice, evaluate
from monitor.scans.notes import notes
from monitor.scans.observe import observe
from monitor.scans.summary import ReferenceSummary
from monitor.sources import ModelLog, SourceEngines
from monitor.sources.validate import require_readable
from monitor.windows import Window

if TYPE_CHECKING:
    import pandas as pd

    from monitor.alerts.store import Transition

T = TypeVar("T")


@dataclass
class ScanReport:
    """Everything a scan found, ready to store with :func:`monitor.scans.store_scan`."""

    model: str
    window: Window
    performance_window: Window
    config_hash: str
    started_at: datetime
    status: str = "ok"
    error: str | None = None
    reference: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int | None] = field(default_factory=dict)
    model_versions: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    results: list[CheckRow] = field(default_factory=list)
    # What the scan noticed about its data without failing on it, for the user to see.
    warnings: list[str] = field(default_factory=list)
    finished_at: datetime | None = None
    # Set when this run failed beside a stored scan of the window whose results were kept.
    kept_scan_id: int | None = None
    # Alert transitions this scan caused (set when it is stored and judged).
    alerts: list[Transition] = field(default_factory=list)

    @property
    def failed(self) -> list[CheckRow]:
        return [r for r in self.results if r.outcome.passed is False]


def run_scan(
    model: ModelConfig, window_end: datetime, *, engines: SourceEngines, session: Session
) -> ScanReport:
    """Scan ``model`` for the window ending at ``window_end``.

    Never raises for a problem of this model (a missing table, a bad column, a failing
    check): that is recorded as status ``error`` with its message, so other models still
    scan. Every configured table, column and reference file is looked up before any row is
    read or anything is written. ``session`` (the state DB) serves the reference cache;
    nothing is committed.
    """
    window = Window.ending(window_end, model.window)
    report = ScanReport(
        model=model.name,
        window=window,
        performance_window=Window.ending(window_end, model.window, shift=model.label_delay),
        config_hash=model_config_hash(model),
        started_at=datetime.now(UTC),
    )
    log = ModelLog(model, engines)
    try:
        require_readable(log)
        _scan(model, report, log, session)
    except Exception as exc:  # recorded as data, see the docstring
        report.status, report.error, report.results = "error", _message(exc, engines), []
    report.warnings = list(dict.fromkeys([*log.warnings, *report.warnings, *notes(model, report)]))
    report.finished_at = datetime.now(UTC)
    return report


def _scan(model: ModelConfig, report: ScanReport, log: ModelLog, session: Session) -> None:
    clock = _Clock(report.timings)
    if model.warehouse:  # summaries computed by the source database
        from monitor.scans.warehouse import scan_in_database

        with clock("warehouse"):
            scan_in_database(model, report, log, session)
        return
    shared = _one_read(model, report)
    with clock("reference"):
        plan = plan_reference(model, log, report.window, session=session)
    read = partial(log.rows, report.window, log.live_columns(), with_target=shared)
    if plan.cached:
        log.prepare()  # reflection and the timestamp sample, once, before two threads read
        with ThreadPoolExecutor(1, thread_name_prefix="live-read") as pool:
            # A cached profile loads while the live rows are read (the read waits mostly on
            # the database and the driver's C code). Rows to summarise are read first, so
            # that the two windows are not held at once. An error in the reference still
            # wins, after the read has finished.
            live_read = pool.submit(clock.timed, "load_live", read)
            with clock("reference_load"):
                summary, report.reference = load_reference(plan, session=session)
            live = live_read.result()
    else:
        with clock("reference_load"):
            summary, report.reference = load_reference(plan, session=session)
        live = clock.timed("load_live", read)
    with clock("load_performance"):
        if shared:
            performance = live[[*log.performance_columns(), model.target_column]]
        else:
            performance = _performance_rows(model, log, report, live)
    with clock("checks"):
        report.results = _all_slices(model, report, live, performance, summary)
    report.rows = {
        "reference": summary.rows,
        "live": len(live),
        "labelled": _labelled(model, performance),
    }
    report.model_versions = _versions(model, live)
    report.metrics = observe(model, live, performance, summary.whole, report.window)
    report.status = _status(report, live)


def _one_read(model: ModelConfig, report: ScanReport) -> bool:
    """Whether the performance rows are the live rows plus the target (no label delay, the
    target a column of the log): then one read serves both, which halves a large scan's I/O."""
    same = report.performance_window == report.window
    return same and isinstance(model.target, str)


def _performance_rows(
    model: ModelConfig, log: ModelLog, report: ScanReport, live: pd.DataFrame
) -> pd.DataFrame:
    if model.target is None:
        return live.iloc[0:0]
    return log.rows(report.performance_window, log.performance_columns(), with_target=True)


def _all_slices(
    model: ModelConfig,
    report: ScanReport,
    live: pd.DataFrame,
    performance: pd.DataFrame,
    summary: ReferenceSummary,
) -> list[CheckRow]:
    seconds = (report.window.end - report.window.start).total_seconds()
    rows = evaluate(model, Slice(live, performance, summary.whole, seconds))
    values = top_segments(model, live, limit=model.max_segments)
    perf_parts = dict(segment_frames(model, performance, limit=0, values=values))
    for value, part in segment_frames(model, live, limit=0, values=values):
        reference = summary.segment(value)
        perf = perf_parts.get(value, performance.iloc[0:0])
        rows += evaluate(model, Slice(part, perf, reference, seconds, segment=value))
    return rows


def _status(report: ScanReport, live: pd.DataFrame) -> str:
    if live.empty:
        return "no_data"  # an empty live window is a finding, never a pass
    return "failed" if report.failed else "ok"


def _labelled(model: ModelConfig, performance: pd.DataFrame) -> int | None:
    target = model.target_column
    if target is None or target not in performance.columns:
        return None
    return int(performance[target].notna().sum())


def _versions(model: ModelConfig, live: pd.DataFrame) -> list[str]:
    if model.model_version is None:
        return []
    return sorted(str(v) for v in live[model.model_version].dropna().unique())


def _message(exc: Exception, engines: SourceEngines) -> str:
    from monitor.errors import MonitorError
    from monitor.redact import redact

    text = str(exc).strip() or type(exc).__name__
    text = text if isinstance(exc, MonitorError) else f"{type(exc).__name__}: {text}"
    return redact(text, engines.secrets())


class _Clock:
    """Seconds per phase into ``timings``; each use has its own start, so a phase may run on
    another thread while the main thread times its own."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 4)

    def timed(self, name: str, work: Callable[[], T]) -> T:
        with self(name):
            return work()
