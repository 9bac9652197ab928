"""The config mapped onto the alert layer: policies, routing, which checks alert.

``evaluate_stored_scan`` right after ``store_scan`` (same transaction); ``resolve_removed`` at
start. Which notifier delivers, and the periodic tick, are composed above this layer
(:mod:`monitor.run.notifiers`, :mod:`monitor.run.tick`): nothing here imports a notifier.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from checks.phrases import effect_phrase, threshold_how
from monitor.alerts.actions import resolve_removed_checks
from monitor.alerts.backfill import release_held
from monitor.alerts.conditions import CheckSignal
from monitor.alerts.evaluate import evaluate_scan
from monitor.alerts.policy import (
    DEFAULT_FLAP_WINDOWS,
    AlertPolicy,
    Route,
    Routing,
    SeverityRoute,
)
from monitor.alerts.store import Transition
from monitor.config.notify import NotifyEntry
from monitor.config.schema import Config, ModelConfig
from monitor.store import CheckResult, Scan
from monitor.windows import Every


def policy_for(model: ModelConfig) -> AlertPolicy:
    settings = model.alerts
    grid = model.grid
    interval = grid.interval if isinstance(grid, Every) else model.window
    flap_window = settings.flap_window or interval * DEFAULT_FLAP_WINDOWS
    return AlertPolicy(
        raise_after=settings.raise_after,
        clear_after=settings.clear_after,
        remind_every={
            "critical": settings.remind_every.critical,
            "warning": settings.remind_every.warning,
        },
        channel=settings.channel,
        runbook=settings.runbook,
        segment_alerts=frozenset(segment_alerts(model)),
        flap_threshold=settings.flap_threshold,
        flap_window=flap_window,
        flap_quiet=settings.flap_quiet or flap_window / 2,
        escalate_after=settings.escalate_after,
        ack_timeout=settings.ack_timeout,
    )


def routing_for(config: Config) -> Routing:
    slack = config.slack
    lists = {m.name: m.notify for m in config.models if m.notify is not None}
    if config.notify is not None:
        lists[""] = config.notify
    if slack is None:
        # Without Slack the console shows every alert, whatever else is notified.
        console = (Route("console"),)
        return Routing(default_channel="console", routes=_routes(lists, console))
    severities = {
        name: SeverityRoute(route.channel, route.mention)
        for name, route in (("critical", slack.critical), ("warning", slack.warning))
    }
    return Routing(default_channel=slack.channel, severities=severities, routes=_routes(lists))


def _routes(
    lists: dict[str, list[NotifyEntry]], first: tuple[Route, ...] = ()
) -> dict[str, tuple[Route, ...]]:
    return {
        model: first + tuple(Route(e.destination, _severities(e.severities)) for e in entries)
        for model, entries in lists.items()
    }


def _severities(names: Collection[str] | None) -> frozenset[str] | None:
    return frozenset(names) if names is not None else None


def alerting_checks(model: ModelConfig) -> set[str]:
    """The check ids that can raise alerts (DESIGN.md: per-column drift only when configured)."""
    drift = model.checks.drift
    ids = {t.check_id for t in model.checks.thresholds}
    if model.checks.multivariate_drift.enabled:
        ids.add("multivariate_drift")
    if drift.enabled:
        ids.add("dataset_drift")
        ids |= {f"drift:{c}" for c, spec in drift.per_column.items() if spec.severity}
        ids |= {f"missing_share:{c}" for c in model.features.all}
        if drift.prediction:
            ids.add("prediction_drift")
        if drift.target:
            ids.add("target_drift")
    return ids


def segment_alerts(model: ModelConfig) -> set[str]:
    """The check ids that open one alert per segment (``segments: each``)."""
    ids = {t.check_id for t in model.checks.thresholds if t.per_segment == "each"}
    if model.checks.drift.segments == "each":
        ids |= alerting_checks(model) - {t.check_id for t in model.checks.thresholds}
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
    *,
    session: Session,
    scan: Scan,
    model: ModelConfig,
    config: Config,
    now: datetime,
    hold: bool = False,
) -> list[Transition]:
    """Call right after ``store_scan``, in the same transaction; never commits.

    ``hold``: the scan is part of a backfill; :func:`release_backfill` notifies at its end.
    """
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
        hold=hold,
    )


def release_backfill(
    *, session: Session, config: Config, models: Iterable[ModelConfig], now: datetime
) -> list[Transition]:
    """The end of a backfill of ``models``: one notification per alert with held ones (its
    final state), see :mod:`monitor.alerts.backfill`; never commits."""
    routing = routing_for(config)
    done: list[Transition] = []
    for model in models:
        done += release_held(
            session=session, model=model.name, policy=policy_for(model), routing=routing, now=now
        )
    return done


def resolve_removed(*, session: Session, config: Config, now: datetime) -> list[Transition]:
    """At start: resolve alerts whose check left the config (reason ``check_removed``)."""
    configured = {m.name: alerting_checks(m) for m in config.models}
    return resolve_removed_checks(session=session, configured=configured, now=now)


def summary(row: CheckResult) -> str:
    """The alert's one line. Drift leads with its effect and says where its threshold came
    from, here the default (calibrated) mode's Anderson-Darling statistic: "income: mean
    +1.18 sd (drift:income ad 1040 vs 6.517; calibrated: ad > 6.517: 99.88th percentile of
    4000 resampled windows of 2000 rows (1% of scans over 8 columns))"."""
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
