"""Store a scan and its results; a re-scan of the same (model, window end) replaces them.

An error never replaces a stored scan that has results: the failed run is kept beside it as
a ``scan_attempt``, so a broken config cannot wipe good history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.scans.result import CheckRow, ScanReport
from monitor.store import CheckResult, PerformanceEstimate, Scan, ScanAttempt


def store_scan(report: ScanReport, *, session: Session) -> Scan:
    """Write ``report`` as a scan row with its check results and return it (flushed).

    Never commits: the caller owns the transaction, so alert evaluation can run on the
    returned scan and commit with it. A scan of the same model and window end keeps its id
    and gets its results replaced (late labels), never duplicated. A failed run meeting a
    scan that has results keeps that scan as it is and records a ``scan_attempt`` beside it
    (:func:`kept` tells which happened).
    """
    scan = session.scalar(
        select(Scan).where(Scan.model == report.model, Scan.window_end == report.window.end)
    )
    if scan is not None and report.status == "error" and scan.status != "error":
        session.add(_attempt(scan, report))
        session.flush()
        return scan
    if scan is None:
        scan = Scan(model=report.model, window_end=report.window.end)
        session.add(scan)
    else:
        scan.results.clear()
        session.flush()  # old results go before new ones take their (check, segment) keys
    _fill(scan, report)
    scan.results.extend(_result(row) for row in report.results)
    store_estimates(report, session=session)
    session.flush()
    return scan


def store_estimates(report: ScanReport, *, session: Session) -> None:
    """The live window's estimates, and the realised values of the performance window
    beside the estimates made for it (a re-scan replaces the estimates and keeps the
    realised values, which a later scan brought); the whole window's and each segment's."""
    if not report.estimates:
        return
    parts = {"": report.estimates, **report.estimates.get("segments", {})}
    end, labelled_end = report.window.end, report.performance_window.end
    stored = _estimate_rows(session, report.model, {end, labelled_end})
    for segment, part in parts.items():
        for metric, found in part.get("estimated", {}).items():
            row = stored.get((metric, segment, end))
            if row is None:
                row = PerformanceEstimate(
                    model=report.model, metric=metric, segment=segment, window_end=end
                )
                session.add(row)
                stored[(metric, segment, end)] = row
            row.window_start = report.window.start
            row.estimated = _number(found.get("value"))
            row.lower, row.upper = _number(found.get("lower")), _number(found.get("upper"))
            row.sampling_error = _number(found.get("sampling_error"))
            row.rows, row.how = found.get("rows"), found.get("how")
    # without label delay, the realised value lands on the row just added
    for segment, part in parts.items():
        for metric, found in part.get("realised", {}).items():
            row = stored.get((metric, segment, labelled_end))
            if row is not None and found.get("value") is not None:
                row.realised = _number(found["value"])
                row.labelled = found.get("labelled")
                row.realised_at = end


def _estimate_rows(
    session: Session, model: str, ends: set[datetime]
) -> dict[tuple[str, str, datetime], PerformanceEstimate]:
    """The model's stored estimates of these window ends, by (metric, segment, window end)."""
    with session.no_autoflush:
        rows = session.scalars(
            select(PerformanceEstimate).where(
                PerformanceEstimate.model == model, PerformanceEstimate.window_end.in_(ends)
            )
        ).all()
    found = {}
    for row in rows:
        for end in ends:  # the stored end compares equal to the report's (both aware UTC)
            if row.window_end == end:
                found[(row.metric, row.segment, end)] = row
    return found


def kept(report: ScanReport, scan: Scan) -> bool:
    """Whether storing the failed ``report`` kept ``scan``'s results (and its status)."""
    return report.status == "error" and scan.status != "error"


def _attempt(scan: Scan, report: ScanReport) -> ScanAttempt:
    return ScanAttempt(
        scan_id=scan.id,
        model=report.model,
        window_start=report.window.start,
        window_end=report.window.end,
        error=report.error or "error",
        config_hash=report.config_hash,
        started_at=report.started_at,
        finished_at=report.finished_at or datetime.now(UTC),
    )


def _fill(scan: Scan, report: ScanReport) -> None:
    scan.window_start = report.window.start
    scan.reference = jsonable(report.reference)
    scan.rows_reference = report.rows.get("reference")
    scan.rows_live = report.rows.get("live")
    scan.rows_labelled = report.rows.get("labelled")
    scan.model_versions = list(report.model_versions)
    scan.config_hash = report.config_hash
    scan.status = report.status
    scan.error = report.error
    scan.started_at = report.started_at
    scan.finished_at = report.finished_at or datetime.now(UTC)
    scan.timings = jsonable(report.timings)
    scan.metrics = jsonable(report.metrics)
    scan.warnings = list(report.warnings)


def _result(row: CheckRow) -> CheckResult:
    outcome = row.outcome
    return CheckResult(
        check=outcome.check,
        segment=row.segment,
        method=outcome.method,
        value=_number(outcome.value),
        threshold=_number(outcome.threshold),
        passed=outcome.passed,
        severity=row.severity,
        reason=outcome.reason,
        details=jsonable(dict(outcome.details)),
    )


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def jsonable(value: Any) -> Any:
    """Plain JSON: numpy scalars and arrays to Python, NaN and infinities to null."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
