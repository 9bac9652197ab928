"""Operational endpoints: ``/healthz``, ``/readyz`` and ``/metrics``.

``/metrics`` is built per request in a fresh ``CollectorRegistry`` (never the global one) from
a list of collectors, so other areas add theirs without editing this module::

    def my_collector(session: Session, now: datetime) -> Iterable[Metric]:
        gauge = GaugeMetricFamily("monitor_x", "help", labels=["model"])
        gauge.add_metric(["churn"], 1.0)
        yield gauge

    ops_router(sessions, clock=clock, collectors=[*default_collectors(), my_collector])

Every value comes from the state DB, so each replica reports the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from monitor import views
from monitor.alerts.delivery_state import (
    delivery_problems,
    failures_by_channel,
    notifier_delivery,
    outbox_state,
)
from monitor.store import Alert, Heartbeat, Scan

Collector = Callable[[Session, datetime], Iterable[Metric]]
TICK = "tick"
# /readyz fails when no tick finished within this age (a tick runs every minute).
DEFAULT_TICK_MAX_AGE = timedelta(minutes=3)
# /readyz lists at most this many notifications refused for good, newest first.
PROBLEMS_SHOWN = 5


def ops_router(
    sessions: Callable[[], Session],
    *,
    clock: Callable[[], datetime],
    collectors: Sequence[Collector] | None = None,
    tick_max_age: timedelta = DEFAULT_TICK_MAX_AGE,
    notifiers: Sequence[str] | None = None,
) -> APIRouter:
    """The three operational routes; ``collectors`` default to :func:`default_collectors`.
    ``notifiers`` (:meth:`~monitor.config.schema.Config.notifier_names`): each one's delivery
    is listed by ``/readyz``."""
    chosen = list(default_collectors() if collectors is None else collectors)
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=views.Liveness)
    def healthz() -> views.Liveness:
        """The process is alive (no database call)."""
        return views.Liveness(status="ok")

    @router.get(
        "/readyz",
        response_model=views.Readiness,
        responses={503: {"model": views.Readiness, "description": "Not ready"}},
    )
    def readyz() -> JSONResponse:
        """State DB reachable and a tick ran recently; delivery trouble is reported, not fatal."""
        body = readiness(sessions, now=clock(), tick_max_age=tick_max_age, notifiers=notifiers)
        # exclude_unset: an unreachable state DB answers only ready and state_db, as before.
        shown = body.model_dump(mode="json", exclude_unset=True)
        return JSONResponse(shown, status_code=200 if body.ready else 503)

    @router.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> Response:
        """Prometheus text exposition of the state DB's view of every model."""
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(render_registry(sessions, clock(), chosen), media_type=CONTENT_TYPE_LATEST)

    return router


def render_registry(
    sessions: Callable[[], Session], now: datetime, collectors: Sequence[Collector]
) -> bytes:
    """Run every collector on one session and render them in a registry of this request."""
    from prometheus_client import CollectorRegistry, generate_latest

    with sessions() as session:
        families = [family for collect in collectors for family in collect(session, now)]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(families))
    return generate_latest(registry)


class _Fixed:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def readiness(
    sessions: Callable[[], Session],
    *,
    now: datetime,
    tick_max_age: timedelta,
    notifiers: Sequence[str] | None = None,
) -> views.Readiness:
    """The ``/readyz`` body: ``ready`` plus the reasons and the delivery state, all
    destinations together (``slack``, its first name) and, given the configured
    ``notifiers``, one by one."""
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
            last_tick = _last_beat(session, TICK)
            slack = _delivery_state(session, now)
            each = (
                notifier_delivery(session=session, names=notifiers, limit=PROBLEMS_SHOWN)
                if notifiers
                else None
            )
    except Exception as exc:  # the answer itself: the state DB is unreachable
        return views.Readiness(ready=False, state_db=f"unreachable: {type(exc).__name__}")
    recent = last_tick is not None and now - last_tick <= tick_max_age
    body = views.Readiness(
        ready=recent,
        state_db="ok",
        last_tick=last_tick.isoformat().replace("+00:00", "Z") if last_tick else None,
        tick="ok" if recent else f"no tick within {int(tick_max_age.total_seconds())}s",
        slack=slack,
    )
    if each is not None:  # set only with a config: exclude_unset leaves it out otherwise
        body.notifiers = each
    return body


def _last_beat(session: Session, name: str) -> datetime | None:
    return session.scalar(select(Heartbeat.beat_at).where(Heartbeat.name == name))


def _delivery_state(session: Session, now: datetime) -> views.SlackDelivery:
    state = outbox_state(session=session, now=now)
    status: Literal["ok", "degraded"] = (
        "ok" if not state.failed and not state.retrying else "degraded"
    )
    return views.SlackDelivery(
        status=status,
        failed=state.failed,
        retrying=state.retrying,
        last_error=state.last_error,
        problems=delivery_problems(session=session, limit=PROBLEMS_SHOWN),
    )


def default_collectors() -> list[Collector]:
    """Scan, outbox, alert and tick metrics; the dashboard work appends its own."""
    return [scan_metrics, outbox_metrics, alert_metrics, tick_metrics]


def scan_metrics(session: Session, now: datetime) -> Iterator[Metric]:
    """Per model: duration of the latest scan, time of the last successful one, scans by status."""
    duration = GaugeMetricFamily(
        "monitor_scan_duration_seconds", "Duration of the model's latest scan.", labels=["model"]
    )
    success = GaugeMetricFamily(
        "monitor_last_successful_scan_timestamp_seconds",
        "Window end of the model's latest scan that did not end in error (Unix time).",
        labels=["model"],
    )
    counts = GaugeMetricFamily(
        "monitor_scans", "Stored scans by model and status.", labels=["model", "status"]
    )
    latest = (
        select(Scan.model, func.max(Scan.window_end).label("end")).group_by(Scan.model).subquery()
    )
    rows = session.execute(
        select(Scan.model, Scan.started_at, Scan.finished_at).join(
            latest, (Scan.model == latest.c.model) & (Scan.window_end == latest.c.end)
        )
    )
    for model, started, finished in rows:
        duration.add_metric([model], max((finished - started).total_seconds(), 0.0))
    ok = select(Scan.model, func.max(Scan.window_end)).where(Scan.status != "error")
    for model, end in session.execute(ok.group_by(Scan.model)):
        success.add_metric([model], end.timestamp())
    by_status = select(Scan.model, Scan.status, func.count()).group_by(Scan.model, Scan.status)
    for model, status, count in session.execute(by_status):
        counts.add_metric([model, status], float(count))
    yield from (duration, success, counts)


def outbox_metrics(session: Session, now: datetime) -> Iterator[Metric]:
    """Outbox backlog (pending rows, oldest age) and notifications that failed."""
    state = outbox_state(session=session, now=now)
    backlog = GaugeMetricFamily("monitor_outbox_backlog", "Notifications waiting to be sent.")
    backlog.add_metric([], float(state.pending))
    age = GaugeMetricFamily(
        "monitor_outbox_oldest_pending_age_seconds", "Age of the oldest waiting notification."
    )
    oldest = state.oldest_pending_at
    age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
    failures = GaugeMetricFamily(
        "monitor_notification_failures",
        "Notifications that stopped retrying (failed) or are retrying after an error.",
        labels=["kind"],
    )
    failures.add_metric(["failed"], float(state.failed))
    failures.add_metric(["retrying"], float(state.retrying))
    by_channel = GaugeMetricFamily(
        "monitor_channel_notification_failures",
        "Notifications failed for good or retrying, by outbox channel (a Slack channel, "
        "pagerduty:<name>, webhook:<name>, email:<name>); channels without any are absent.",
        labels=["channel", "kind"],
    )
    for (channel, kind), count in sorted(failures_by_channel(session=session).items()):
        by_channel.add_metric([channel, kind], float(count))
    yield from (backlog, age, failures, by_channel)


def alert_metrics(session: Session, now: datetime) -> Iterator[Metric]:
    """Open alerts by model, state and severity."""
    gauge = GaugeMetricFamily(
        "monitor_open_alerts", "Open alerts.", labels=["model", "state", "severity"]
    )
    query = (
        select(Alert.model, Alert.state, Alert.severity, func.count())
        .where(Alert.state != "resolved")
        .group_by(Alert.model, Alert.state, Alert.severity)
    )
    for model, state, severity, count in session.execute(query):
        gauge.add_metric([model, state, severity], float(count))
    yield gauge


def tick_metrics(session: Session, now: datetime) -> Iterator[Metric]:
    """When the last tick finished, on any replica."""
    gauge = GaugeMetricFamily(
        "monitor_last_tick_timestamp_seconds", "When the last tick finished (Unix time)."
    )
    beat = _last_beat(session, TICK)
    if beat is not None:
        gauge.add_metric([], beat.timestamp())
    yield gauge
