"""The config mapped onto the alert layer: policies, routing, which checks alert.

``evaluate_stored_scan`` right after ``store_scan`` (same transaction); ``resolve_removed`` at
start. Which notifier delivers, and the periodic tick, are composed above this layer
(:mod:`monitor.run.notifiers`, :mod:`monitor.run.tick`): nothing here imports a notifier.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from checks.drift.effect import effect_phrase, threshold_how
from monitor.alerts.actions import resolve_removed_checks
from monitor.alerts.conditions import CheckSignal
from monitor.alerts.evaluate import evaluate_scan
from monitor.alerts.policy import AlertPolicy, Routing, SeverityRoute
from monitor.alerts.store import Transition
from monitor.config.schema import Config, ModelConfig
from monitor.store import CheckResult, Scan


def policy_for(model: ModelConfig) -> AlertPolicy:
    settings = model.alerts
    return AlertPolicy(
        raise_after=settings.raise_after,
        clear_after=settings.clear_after,
        remind_every={
            "critical": settings.remind_every.critical,
            "warning": settings.remind_every.warning,
        },
        channel=settings.channel,
        runbook=settings.runbook,
    )


def routing_for(config: Config) -> Routing:
    slack = config.slack
    if slack is None:
        return Routing(default_channel="console")
    routes = {
        name: SeverityRoute(route.channel, route.mention)
        for name, route in (("critical", slack.critical), ("warning", slack.warning))
    }
    return Routing(default_channel=slack.channel, severities=routes)


def alerting_checks(model: ModelConfig) -> set[str]:
    """The check ids that can raise alerts (DESIGN.md: per-column drift only when configured)."""
    drift = model.checks.drift
    ids = {t.check_id for t in model.checks.thresholds}
    if drift.enabled:
        ids.add("dataset_drift")
        ids |= {f"drift:{c}" for c, spec in drift.per_column.items() if spec.severity}
        ids |= {f"missing_share:{c}" for c in model.features.all}
        if drift.prediction:
            ids.add("prediction_drift")
        if drift.target:
            ids.add("target_drift")
    return ids


def signals_from_scan(scan: Scan, model: ModelConfig) -> list[CheckSignal]:
    """The stored results of ``scan`` that feed alert conditions."""
    alerting = alerting_checks(model)
    return [
        CheckSignal(
            check_id=row.check,
            passed=row.passed,
            severity=row.severity,
            value=row.value,
            threshold=row.threshold,
            segment=row.segment,
            summary=summary(row),
        )
        for row in scan.results
        if row.check in alerting
    ]


def evaluate_stored_scan(
    *, session: Session, scan: Scan, model: ModelConfig, config: Config, now: datetime
) -> list[Transition]:
    """Call right after ``store_scan``, in the same transaction; never commits."""
    if scan.status == "error":
        return []  # no results to judge; scan_error alerts are a separate check
    return evaluate_scan(
        session=session,
        model=model.name,
        window_end=scan.window_end,
        signals=signals_from_scan(scan, model),
        policy=policy_for(model),
        routing=routing_for(config),
        now=now,
    )


def resolve_removed(*, session: Session, config: Config, now: datetime) -> list[Transition]:
    """At start: resolve alerts whose check left the config (reason ``check_removed``)."""
    configured = {m.name: alerting_checks(m) for m in config.models}
    return resolve_removed_checks(session=session, configured=configured, now=now)


def summary(row: CheckResult) -> str:
    """The alert's one line. Drift leads with its effect and says where its threshold came
    from: "income: mean +0.31 sd (drift:income ks 0.41 > 0.047; calibrated: ks > 0.047:
    99.88th percentile of 1000 resampled windows of 2000 rows (1% of scans over 8 columns))"."""
    check, value, threshold = row.check, row.value, row.threshold
    if _is_drift(check) and value is not None:
        details = row.details or {}
        drifted = ", ".join(details.get("drifted", []))
        lead = (
            effect_phrase(details)
            or "; ".join(details.get("effects", []))
            or (f"drifted: {drifted}" if drifted else "")
        )
        limit = "" if threshold is None else f" vs {threshold:.4g}"
        score = f"{check} {row.method} {value:.4g}{limit}; {threshold_how(details)}"
        return f"{lead} ({score})" if lead else score
    if row.passed is False and row.reason and row.reason.startswith(check):
        return row.reason  # the threshold library's own words: "accuracy 0.74 < min 0.8"
    if value is None:
        return f"{check}: {row.reason or 'no value'}"
    if threshold is None:
        return f"{check} {value:.4g}"
    return f"{check} {value:.4g} (threshold {threshold:.4g})"


def _is_drift(check: str) -> bool:
    return check.startswith("drift:") or check in DRIFT_CHECKS


DRIFT_CHECKS = frozenset({"dataset_drift", "prediction_drift", "target_drift"})
