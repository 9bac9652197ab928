"""Run one model's scan for one window end: read, summarise, evaluate (storing is separate).

A scan is read → one window summary (exact: by the rows' values, monitor/scans/exact.py;
warehouse: by SQL aggregates, monitor/scans/warehouse.py) → one
:func:`~monitor.scans.evaluate.evaluate` → a frozen :class:`ScanReport`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor.config.load import model_config_hash
from monitor.config.schema import ModelConfig
from monitor.errors import MonitorError
from monitor.redact import redact
from monitor.scans.cache import remember_calibrations
from monitor.scans.estimates import estimates_by_segment, estimates_of, realised_of
from monitor.scans.evaluate import evaluate
from monitor.scans.exact import Windows, read_exact
from monitor.scans.notes import notes
from monitor.scans.result import ScanReport
from monitor.scans.summary import ReferenceSummary
from monitor.scans.timing import Clock
from monitor.scans.warehouse import read_in_database
from monitor.scans.window_summary import WindowSummary
from monitor.sources import ModelLog, SourceEngines
from monitor.sources.validate import require_readable
from monitor.windows import Window

__all__ = ["ScanReport", "run_scan"]


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
    windows = Windows(
        Window.ending(window_end, model.window),
        Window.ending(window_end, model.window, shift=model.label_delay),
    )
    started_at = datetime.now(UTC)
    timings: dict[str, float] = {}
    log = ModelLog(model, engines)
    found: dict[str, Any]
    try:
        require_readable(log)
        found = _scan(model, log, windows, session, Clock(timings))
    except Exception as exc:  # recorded as data, see the docstring
        found = {"status": "error", "error": _message(exc, engines)}
    said = notes(
        model,
        status=found["status"],
        rows=found.get("rows", {}),
        reference=found.get("reference", {}),
        results=found.get("results", ()),
    )
    return ScanReport(
        model=model.name,
        window=windows.live,
        performance_window=windows.performance,
        config_hash=model_config_hash(model),
        started_at=started_at,
        finished_at=datetime.now(UTC),
        timings=timings,
        warnings=tuple(dict.fromkeys([*log.warnings, *said])),
        **found,
    )


def _scan(
    model: ModelConfig, log: ModelLog, windows: Windows, session: Session, clock: Clock
) -> dict[str, Any]:
    """The report's findings: read one window summary, then evaluate it."""
    summary: WindowSummary
    reference: ReferenceSummary
    after = None
    if model.warehouse:  # summaries computed by the source database
        with clock("warehouse"):
            summary, reference, descriptor = read_in_database(model, log, windows, session=session)
    else:
        summary, reference, descriptor, after = read_exact(
            model, log, windows, session=session, clock=clock
        )
    with clock("checks"):
        results = tuple(evaluate(summary, reference, model))
    remember_calibrations(session, reference)
    store = None
    if after is not None:
        del reference  # its profiles are freed before the live window's are made
        with clock("live_profile"):
            store = after()
        del after  # it holds the live rows
    estimated = estimates_of(results)
    realised = realised_of(model, summary.whole)
    segments = estimates_by_segment(model, results, summary.slices)
    failed = any(r.outcome.passed is False for r in results)
    # an empty live window is a finding, never a pass
    status = "no_data" if summary.whole.rows == 0 else ("failed" if failed else "ok")
    found = {
        "status": status,
        "reference": descriptor,
        "rows": summary.rows,
        "model_versions": summary.model_versions,
        "metrics": summary.observed,
        "results": results,
        "estimates": {"estimated": estimated, "realised": realised, "segments": segments}
        if estimated or realised or segments
        else {},
    }
    if store is not None:
        del summary  # the live rows are let go before the database copies the kept summary
        with clock("live_profile_store"):
            store()
    return found


def _message(exc: Exception, engines: SourceEngines) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = text if isinstance(exc, MonitorError) else f"{type(exc).__name__}: {text}"
    return redact(text, engines.secrets())
