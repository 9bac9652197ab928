"""Read side of stored scans: a model's scans, one scan with its results, one check over time.

The HTTP API and the dashboard serve these; the JSON shapes are documented in docs/api.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from monitor import views
from monitor.store import WHOLE_WINDOW, Alert, CheckResult, Scan, id_in_range
from monitor.windows import isoformat_z


class ScanNotFoundError(LookupError):
    def __init__(self, scan_id: int) -> None:
        super().__init__(f"scan {scan_id} not found")
        self.scan_id = scan_id


def list_scans(*, session: Session, model: str, limit: int = 100) -> list[Scan]:
    """``model``'s scans, newest window first."""
    stmt = select(Scan).where(Scan.model == model).order_by(Scan.window_end.desc()).limit(limit)
    return list(session.scalars(stmt))


def get_scan(*, session: Session, scan_id: int) -> Scan:
    if not id_in_range(scan_id):
        raise ScanNotFoundError(scan_id)
    stmt = select(Scan).where(Scan.id == scan_id).options(selectinload(Scan.results))
    scan = session.scalars(stmt).one_or_none()
    if scan is None:
        raise ScanNotFoundError(scan_id)
    return scan


def scan_json(scan: Scan) -> views.Scan:
    return views.Scan.model_validate(_scan_fields(scan))


def scan_detail_json(scan: Scan) -> views.ScanDetail:
    """The scan with its metrics and every check result."""
    results = [result_json(r) for r in scan.results]
    return views.ScanDetail.model_validate(
        {**_scan_fields(scan), "metrics": scan.metrics, "results": results}
    )


def _scan_fields(scan: Scan) -> dict[str, object]:
    return {
        "id": scan.id,
        "model": scan.model,
        "window_start": isoformat_z(scan.window_start),
        "window_end": isoformat_z(scan.window_end),
        "status": scan.status,
        "error": scan.error,
        "warnings": list(scan.warnings or []),
        "rows": views.Rows(
            reference=scan.rows_reference, live=scan.rows_live, labelled=scan.rows_labelled
        ),
        "model_versions": scan.model_versions,
        "reference": scan.reference,
        "config_hash": scan.config_hash,
        "started_at": isoformat_z(scan.started_at),
        "finished_at": isoformat_z(scan.finished_at),
        "timings": scan.timings,
    }


def result_json(result: CheckResult) -> views.CheckResult:
    return views.CheckResult(
        check_id=result.check,
        segment=result.segment or None,
        method=result.method,
        value=result.value,
        threshold=result.threshold,
        passed=result.passed,
        severity=result.severity,
        reason=result.reason,
        details=result.details,
    )


def check_history(
    *, session: Session, model: str, check_id: str, segment: str = WHOLE_WINDOW, limit: int = 500
) -> views.CheckHistory:
    """One check's value and threshold per scan, oldest first, and the alert periods on it."""
    stmt = (
        select(Scan, CheckResult)
        .join(CheckResult, CheckResult.scan_id == Scan.id)
        .where(Scan.model == model, CheckResult.check == check_id, CheckResult.segment == segment)
        .order_by(Scan.window_end.desc())
        .limit(limit)
    )
    points = [_point(scan, result) for scan, result in session.execute(stmt)]
    points.reverse()
    return views.CheckHistory(
        model=model,
        check_id=check_id,
        segment=segment or None,
        points=points,
        alerts=_alert_periods(session=session, model=model, check_id=check_id, segment=segment),
    )


def metric_history(*, session: Session, model: str, limit: int = 500) -> views.MetricHistory:
    """``model``'s observed operations and performance per scan, oldest first (errors skipped:
    they observed nothing)."""
    stmt = (
        select(Scan)
        .where(Scan.model == model, Scan.status != "error")
        .order_by(Scan.window_end.desc())
        .limit(limit)
    )
    points = [
        views.MetricPoint(
            scan_id=scan.id,
            window_end=isoformat_z(scan.window_end),
            rows=views.Rows(
                reference=scan.rows_reference, live=scan.rows_live, labelled=scan.rows_labelled
            ),
            operations=(scan.metrics or {}).get("operations") or {},
            performance=(scan.metrics or {}).get("performance") or {},
        )
        for scan in session.scalars(stmt)
    ]
    points.reverse()
    return views.MetricHistory(model=model, points=points)


def _point(scan: Scan, result: CheckResult) -> views.HistoryPoint:
    return views.HistoryPoint(
        scan_id=scan.id,
        window_end=isoformat_z(scan.window_end),
        value=result.value,
        threshold=result.threshold,
        passed=result.passed,
        severity=result.severity,
    )


def _alert_periods(
    *, session: Session, model: str, check_id: str, segment: str
) -> list[views.AlertPeriod]:
    stmt = (
        select(Alert)
        .where(Alert.model == model, Alert.check_id == check_id, Alert.segment == segment)
        .order_by(Alert.raised_at)
    )
    return [
        views.AlertPeriod.model_validate(
            {
                "id": a.id,
                "state": a.state,
                "severity": a.severity,
                "from": isoformat_z(a.raised_at),
                "to": _iso(_period_end(a)),
            }
        )
        for a in session.scalars(stmt)
    ]


def _period_end(alert: Alert) -> datetime | None:
    """When the breach ended; ``None`` while it goes on (firing, or acknowledged and breaching)."""
    if alert.state == "resolved":
        return alert.recovered_at or alert.resolved_at
    return alert.recovered_at if alert.state == "recovered" else None


def _iso(moment: datetime | None) -> str | None:
    return isoformat_z(moment) if moment else None
