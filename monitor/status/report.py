"""Per-model status report in the JSON shape DESIGN.md fixes (``monitor status --json``).

The colour comes from :mod:`monitor.status.health` (alert conditions, staleness, open alerts); the
rest from the latest stored scans.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from checks.drift.effect import effect_phrase
from monitor import views
from monitor.alerts.queries import AlertCounts, alert_counts
from monitor.config.schema import Config, ModelConfig
from monitor.status.health import model_health
from monitor.status.text import action_items
from monitor.store import WHOLE_WINDOW, CheckResult, Scan, ScanAttempt
from monitor.windows import isoformat_z, next_end, step


def status_report(
    config: Config, *, session: Session, now: datetime, models: list[str] | None = None
) -> views.StatusReport:
    chosen = [config.model(name) for name in models] if models else config.models
    return views.StatusReport(
        generated_at=isoformat_z(now),
        models=[model_status(m, session=session, now=now) for m in chosen],
    )


def model_status(model: ModelConfig, *, session: Session, now: datetime) -> views.ModelStatus:
    scans = _recent_scans(model.name, session=session)
    last = scans[0] if scans else None
    judged = next((s for s in scans if s.status != "error"), None)
    attempt = failed_attempt(model.name, session=session)
    counts = alert_counts(session=session, model=model.name)
    health, reason = model_health(
        model,
        session=session,
        judged=judged,
        last=last,
        counts=counts,
        step=interval(model, now),
        now=now,
        failure=attempt.error if attempt else None,
    )
    whole = [r for r in judged.results if r.segment == WHOLE_WINDOW] if judged else []
    return views.ModelStatus(
        name=model.name,
        health=health,
        reason=reason,
        last_scan=_scan_summary(last),
        last_failed_attempt=_attempt_summary(attempt),
        next_scan=isoformat_z(next_scan(model, now)),
        performance=_performance(judged, whole),
        operations=(judged.metrics or {}).get("operations") if judged else None,
        data_drift=_data_drift(whole) if judged else None,
        model_drift=_model_drift(judged, whole) if judged else None,
        alerts=counts.as_json(),
        action_items=[
            *action_items(model, last, whole, attempt=attempt),
            *_alert_items(model, counts),
        ],
    )


def failed_attempt(model: str, *, session: Session) -> ScanAttempt | None:
    """The latest run that failed beside a window's kept results, unless a scan of the
    model has succeeded since (then it is history, not news)."""
    latest = session.scalars(
        select(ScanAttempt)
        .where(ScanAttempt.model == model)
        .order_by(ScanAttempt.finished_at.desc(), ScanAttempt.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    succeeded = session.scalar(
        select(func.max(Scan.finished_at)).where(Scan.model == model, Scan.status != "error")
    )
    return latest if succeeded is None or latest.finished_at > succeeded else None


def _attempt_summary(attempt: ScanAttempt | None) -> views.FailedAttempt | None:
    if attempt is None:
        return None
    return views.FailedAttempt(
        id=attempt.id,
        window_start=isoformat_z(attempt.window_start),
        window_end=isoformat_z(attempt.window_end),
        error=attempt.error,
        started_at=isoformat_z(attempt.started_at),
        finished_at=isoformat_z(attempt.finished_at),
        kept_scan_id=attempt.scan_id,
    )


def _alert_items(model: ModelConfig, counts: AlertCounts) -> list[str]:
    if not counts.unacknowledged:
        return []
    since = (
        isoformat_z(counts.oldest_unacknowledged_since)
        if counts.oldest_unacknowledged_since
        else "?"
    )
    return [
        f"{counts.unacknowledged} unacknowledged alert(s), the oldest since {since}: "
        f"`monitor alerts` then `monitor ack ID --by NAME` once someone owns it"
    ]


def _recent_scans(model: str, *, session: Session, limit: int = 10) -> list[Scan]:
    stmt = (
        select(Scan)
        .where(Scan.model == model)
        .order_by(Scan.window_end.desc())
        .limit(limit)
        .options(selectinload(Scan.results))
    )
    return list(session.scalars(stmt))


def interval(model: ModelConfig, now: datetime) -> timedelta:
    return step(model.grid, now)


def next_scan(model: ModelConfig, now: datetime) -> datetime:
    return next_end(model.grid, now)


def _scan_summary(scan: Scan | None) -> views.ScanSummary | None:
    if scan is None:
        return None
    return views.ScanSummary(
        id=scan.id,
        window_start=isoformat_z(scan.window_start),
        window_end=isoformat_z(scan.window_end),
        status=scan.status,
        error=scan.error,
        warnings=list(scan.warnings or []),
        rows=scan_rows(scan),
    )


def scan_rows(scan: Scan) -> views.Rows:
    return views.Rows(
        reference=scan.rows_reference, live=scan.rows_live, labelled=scan.rows_labelled
    )


def _performance(
    scan: Scan | None, whole: list[CheckResult]
) -> dict[str, views.PerformanceMetric] | None:
    if scan is None:
        return None
    observed = (scan.metrics or {}).get("performance", {})
    checks = {r.check: r for r in whole}
    report = {}
    for name, seen in observed.items():
        result = checks.get(name)
        report[name] = views.PerformanceMetric(
            value=seen.get("value"),
            baseline=seen.get("baseline"),
            threshold=result.threshold if result else None,
            passed=result.passed if result else None,
            labelled=seen.get("labelled"),
        )
    return report


def _how(details: dict[str, Any] | None) -> str | None:
    calibration = (details or {}).get("calibration")
    return calibration.get("how") if isinstance(calibration, dict) else None


def _data_drift(whole: list[CheckResult]) -> views.DataDrift:
    dataset = next((r for r in whole if r.check == "dataset_drift"), None)
    columns = [
        views.DriftedColumn(
            column=r.check.removeprefix("drift:"),
            method=r.method,
            score=r.value,
            drifted=None if r.passed is None else not r.passed,
            threshold=r.threshold,
            how=_how(r.details),
            effect=effect_phrase(r.details),
        )
        for r in whole
        if r.check.startswith("drift:")
    ]
    # No column judged (e.g. an empty reference window): "0% drifted" would be a false all-clear.
    judged = any(c.drifted is not None for c in columns)
    return views.DataDrift(
        detected=None
        if dataset is None or dataset.passed is None or not judged
        else not dataset.passed,
        share=dataset.value if dataset else None,
        columns=columns,
    )


def _model_drift(scan: Scan, whole: list[CheckResult]) -> views.ModelDrift:
    observed = (scan.metrics or {}).get("performance", {})
    degradation = {
        name: seen["value"] - seen["baseline"]
        for name, seen in observed.items()
        if seen.get("value") is not None and seen.get("baseline") is not None
    }
    prediction = next((r for r in whole if r.check == "prediction_drift"), None)
    performance_failed = any(r.check in observed and r.passed is False for r in whole)
    shifted = prediction is not None and prediction.passed is False
    return views.ModelDrift(detected=performance_failed or shifted, degradation=degradation)
