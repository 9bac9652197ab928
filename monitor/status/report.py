"""Per-model status report in the JSON shape DESIGN.md fixes (``monitor status --json``).

The colour comes from :mod:`monitor.status.health` (alert conditions, staleness, open alerts); the
rest from the latest stored scans.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from checks.names import METRICS
from checks.phrases import effect_phrase
from monitor import views
from monitor.alerts.delivery_state import notifier_delivery
from monitor.alerts.queries import AlertCounts, count_alerts, maintenance_json
from monitor.config.schema import Config, ModelConfig
from monitor.status.health import model_health
from monitor.status.inputs import ModelInputs, load_inputs
from monitor.status.text import action_items
from monitor.store.rows import (
    AlertRow,
    CheckResultRow,
    Reader,
    RetrainingRow,
    ScanAttemptRow,
    ScanRow,
)
from monitor.windows import Cron, isoformat_z, next_end, step


def status_report(
    config: Config, *, session: Reader, now: datetime, models: list[str] | None = None
) -> views.StatusReport:
    chosen = [config.model(name) for name in models] if models else config.models
    inputs = load_inputs(session=session, models=[m.name for m in chosen], now=now)
    return views.StatusReport(
        generated_at=isoformat_z(now),
        models=[build_status(m, inputs[m.name], now=now) for m in chosen],
        delivery=notifier_delivery(session=session, names=config.notifier_names()),
    )


def model_status(model: ModelConfig, *, session: Reader, now: datetime) -> views.ModelStatus:
    inputs = load_inputs(session=session, models=[model.name], now=now)
    return build_status(model, inputs[model.name], now=now)


def build_status(model: ModelConfig, rows: ModelInputs, *, now: datetime) -> views.ModelStatus:
    """The report of ``model`` from its rows read by :func:`load_inputs`."""
    return with_clock(history_status(model, rows), model, rows, now=now)


def history_status(model: ModelConfig, rows: ModelInputs) -> views.ModelStatus:
    """The parts of the report that only the stored history decides; the health, the next
    scan, the maintenance window and the retrainings are :func:`with_clock`'s, and stand
    here as placeholders."""
    last, judged, attempt = rows.last, rows.judged, rows.attempt
    counts = count_alerts(rows.open_alerts, rows.resolutions)
    whole = rows.whole
    actions = _with_alerts(action_items(model, last, whole, attempt=attempt), rows.open_alerts)
    actions += _alert_items(model, counts)
    operations = (judged.metrics or {}).get("operations") if judged else None
    return views.ModelStatus(
        name=model.name,
        health="red",
        reason="",
        last_scan=_scan_summary(last),
        last_failed_attempt=_attempt_summary(attempt),
        next_scan="",
        performance=_performance(judged, whole),
        operations=operations,
        data_drift=_data_drift(whole) if judged else None,
        model_drift=_model_drift(judged, whole) if judged else None,
        estimates=rows.estimates,
        alerts=counts.as_json(),
        action_items=[item.text for item in actions],
        actions=actions,
        throughput=throughput((operations or {}).get("throughput_per_s")),
    )


def with_clock(
    base: views.ModelStatus, model: ModelConfig, rows: ModelInputs, *, now: datetime
) -> views.ModelStatus:
    """``base`` (:func:`history_status`) with what depends on ``now`` and on the maintenance
    windows and retrainings in ``rows``."""
    attempt, retrained, window = rows.attempt, rows.retraining, rows.maintenance
    health, reason = model_health(
        model,
        judged=rows.judged,
        last=rows.last,
        counts=count_alerts(rows.open_alerts),
        conditions=rows.conditions,
        open_alerts=rows.open_alerts,
        results=[*rows.whole, *rows.segment_results],
        step=interval(model, now),
        now=now,
        failure=attempt.error if attempt else None,
    )
    clock = {
        "health": health,
        "reason": reason,
        "next_scan": isoformat_z(next_scan(model, now)),
        "maintenance": maintenance_json(window, now=now) if window else None,
        "last_retraining": retraining_json(retrained) if retrained else None,
        "next_retraining": _iso(next_retraining(model, retrained, now)),
    }
    return base.model_copy(update=clock)


def _with_alerts(
    items: list[views.ActionItem], open_alerts: list[AlertRow]
) -> list[views.ActionItem]:
    """Each check's item with the id of its open alert, for an Acknowledge button."""
    by_key: dict[tuple[str | None, str | None], tuple[int, str]] = {
        (a.check_id, a.segment or None): (a.id, a.state) for a in open_alerts
    }
    items = list(items)
    for n, item in enumerate(items):
        found = by_key.get((item.check_id, item.segment)) if item.kind == "check" else None
        if found is not None:
            items[n] = item.model_copy(update={"alert_id": found[0], "alert_state": found[1]})
    return items


def retraining_json(row: RetrainingRow) -> views.Retraining:
    return views.Retraining(
        id=row.id,
        model=row.model,
        version=row.version or None,
        retrained_at=isoformat_z(row.retrained_at),
        recorded_at=isoformat_z(row.recorded_at),
        source=row.source,  # type: ignore[arg-type]
        recorded_by=row.recorded_by,
        note=row.note,
    )


def next_retraining(
    model: ModelConfig, last: RetrainingRow | None, now: datetime
) -> datetime | None:
    """The next time on the model's ``retraining:`` cron, or ``every`` after the last one
    (``None`` without a schedule, or with ``every`` and no retraining recorded yet)."""
    plan = model.retraining
    if plan is None:
        return None
    if plan.schedule is not None:
        return next_end(Cron(plan.schedule, model.timezone), now)
    assert plan.every is not None
    return last.retrained_at + plan.every if last else None


def throughput(per_s: float | None) -> views.Throughput | None:
    """Rows per second, hour and day, and the unit that reads best (no 0.0268 rows/s)."""
    if per_s is None:
        return None
    per_hour, per_day = per_s * 3600, per_s * 86400
    unit, value = (
        ("s", per_s) if per_s >= 1 else ("hour", per_hour) if per_hour >= 1 else ("day", per_day)
    )
    return views.Throughput.model_validate(
        {"per_s": per_s, "per_hour": per_hour, "per_day": per_day, "unit": unit, "value": value}
    )


def _iso(moment: datetime | None) -> str | None:
    return isoformat_z(moment) if moment else None


def _attempt_summary(attempt: ScanAttemptRow | None) -> views.FailedAttempt | None:
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


def _alert_items(model: ModelConfig, counts: AlertCounts) -> list[views.ActionItem]:
    if not counts.unacknowledged:
        return []
    since = (
        isoformat_z(counts.oldest_unacknowledged_since)
        if counts.oldest_unacknowledged_since
        else "?"
    )
    text = (
        f"{counts.unacknowledged} unacknowledged alert(s), the oldest since {since}: "
        f"`monitor alerts` then `monitor ack ID --by NAME` once someone owns it"
    )
    return [views.ActionItem(text=text, kind="alerts")]


def interval(model: ModelConfig, now: datetime) -> timedelta:
    return step(model.grid, now)


def next_scan(model: ModelConfig, now: datetime) -> datetime:
    return next_end(model.grid, now)


def _scan_summary(scan: ScanRow | None) -> views.ScanSummary | None:
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


def scan_rows(scan: ScanRow) -> views.Rows:
    return views.Rows(
        reference=scan.rows_reference, live=scan.rows_live, labelled=scan.rows_labelled
    )


def _performance(
    scan: ScanRow | None, whole: list[CheckResultRow]
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
            change_percent=_percent(seen.get("value"), seen.get("baseline")),
            threshold=result.threshold if result else None,
            passed=result.passed if result else None,
            labelled=seen.get("labelled"),
            higher_is_better=METRICS[name].higher_is_better if name in METRICS else None,
        )
    return report


def _how(details: dict[str, Any] | None) -> str | None:
    calibration = (details or {}).get("calibration")
    return calibration.get("how") if isinstance(calibration, dict) else None


def _data_drift(whole: list[CheckResultRow]) -> views.DataDrift:
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


def _model_drift(scan: ScanRow, whole: list[CheckResultRow]) -> views.ModelDrift:
    observed = (scan.metrics or {}).get("performance", {})
    degradation = {
        name: seen["value"] - seen["baseline"]
        for name, seen in observed.items()
        if seen.get("value") is not None and seen.get("baseline") is not None
    }
    prediction = next((r for r in whole if r.check == "prediction_drift"), None)
    performance_failed = any(r.check in observed and r.passed is False for r in whole)
    shifted = prediction is not None and prediction.passed is False
    percent = {
        name: change
        for name, seen in observed.items()
        if (change := _percent(seen.get("value"), seen.get("baseline"))) is not None
    }
    return views.ModelDrift(
        detected=performance_failed or shifted,
        degradation=degradation,
        degradation_percent=percent,
    )


def _percent(value: float | None, baseline: float | None) -> float | None:
    """The change from ``baseline`` in percent of it; ``None`` without both or at baseline 0."""
    if value is None or baseline is None or baseline == 0:
        return None
    return (value - baseline) / abs(baseline) * 100
