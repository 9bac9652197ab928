"""Glue between the config / scan core and the alert layer; what the integrator calls.

``evaluate_stored_scan`` right after ``store_scan`` (same transaction); ``run_tick`` at the
end of ``monitor scan`` and every minute in ``monitor run``; ``resolve_removed`` at start.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from monitor.alerts.conditions import CheckSignal
from monitor.alerts.evaluate import evaluate_scan
from monitor.alerts.notify import Notifier
from monitor.alerts.policy import AlertPolicy, Routing, SeverityRoute
from monitor.alerts.store import Transition

if TYPE_CHECKING:
    from typing import TextIO

    from monitor.alerts.tick import TickReport
    from monitor.config.schema import Config, ModelConfig
    from monitor.store import Scan


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
            summary=_summary(row.check, row.value, row.threshold, row.reason, row.passed),
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
    from monitor.alerts.actions import resolve_removed_checks

    configured = {m.name: alerting_checks(m) for m in config.models}
    return resolve_removed_checks(session=session, configured=configured, now=now)


def build_notifier(config: Config, *, out: TextIO | None = None) -> Notifier:
    """Slack when ``slack:`` is configured, else the console notifier."""
    if config.slack is None:
        from monitor.slack.console import ConsoleNotifier

        return ConsoleNotifier(out)
    from monitor.slack.transport import SlackNotifier, make_client

    client = make_client(config.slack.token.get_secret_value(), base_url=config.slack.api_url)
    return SlackNotifier(client, interactive=interactive(config), public_url=config.api.public_url)


def interactive(config: Config) -> bool:
    """Buttons only where clicks can come back: ``/slack/actions`` (signing secret and a
    public URL) or Socket Mode (``slack.app_token``, started by :func:`start_socket_mode`)."""
    slack = config.slack
    if slack is None:
        return False
    return bool(slack.app_token or (slack.signing_secret and config.api.public_url))


def start_socket_mode(
    *, config: Config, sessions: Callable[[], Session], clock: Callable[[], datetime]
) -> Callable[[], None] | None:
    """With ``slack.app_token``: receive button clicks over Socket Mode until the returned
    function is called. None without an app token. ``monitor run`` starts it."""
    slack = config.slack
    if slack is None or slack.app_token is None:
        return None
    from monitor.alerts.tick import deliver_due
    from monitor.slack import transport
    from monitor.slack.interactions import click_handler

    notifier = build_notifier(config)
    handler = click_handler(
        sessions=sessions,
        clock=clock,
        deliver=lambda: deliver_due(sessions, now=clock(), notifier=notifier, clock=clock),
        respond=transport.respond_ephemeral,
    )
    client = transport.make_client(slack.token.get_secret_value())
    app_token = slack.app_token.get_secret_value()
    return transport.start_socket_mode(app_token=app_token, client=client, on_payload=handler)


def run_tick(
    sessions: Callable[[], Session] | Session,
    *,
    config: Config,
    now: datetime,
    notifier: Notifier | None = None,
    clock: Callable[[], datetime] | None = None,
) -> TickReport:
    """``tick`` with the configured notifier, routing and notification retention.

    ``clock``: the wall clock in a long-running service (see :func:`monitor.alerts.tick.tick`).
    """
    from monitor.alerts.tick import tick

    return tick(
        sessions,
        now=now,
        notifier=notifier or build_notifier(config),
        routing=routing_for(config),
        retention=config.retention.notifications,
        clock=clock,
    )


def _summary(
    check: str,
    value: float | None,
    threshold: float | None,
    reason: str | None,
    passed: bool | None,
) -> str:
    if passed is False and reason and reason.startswith(check):
        return reason  # the threshold library's own words: "accuracy 0.74 < min 0.8"
    if value is None:
        return f"{check}: {reason or 'no value'}"
    if threshold is None:
        return f"{check} {value:.4g}"
    return f"{check} {value:.4g} (threshold {threshold:.4g})"
