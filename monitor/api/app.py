"""The HTTP API application factory. Nothing is built at import time.

``monitor run`` serves ``create_app(...)``; the dashboard work adds its routers to the app
it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.orm import Session

from monitor.alerts.notify import Notifier
from monitor.api import (
    alerts,
    dashboard,
    maintenance,
    pagerduty,
    reads,
    retrainings,
    slack_actions,
)
from monitor.api.deps import ApiSettings, AppState, utcnow
from monitor.api.errors import install_error_handlers
from monitor.api.limits import BodyLimit
from monitor.api.model_metrics import model_collectors
from monitor.api.ops import DEFAULT_TICK_MAX_AGE, Collector, default_collectors, ops_router
from monitor.config.schema import Config
from monitor.status.cache import StatusCache

__all__ = ["ApiSettings", "AppState", "create_app", "create_ops_app", "settings_from_config"]


def create_app(
    *,
    sessions: Callable[[], Session],
    settings: ApiSettings,
    notifier: Notifier | None = None,
    clock: Callable[[], datetime] = utcnow,
    respond: Callable[[str, str], None] | None = None,
    config: Config | None = None,
    collectors: Sequence[Collector] | None = None,
    tick_max_age: timedelta = DEFAULT_TICK_MAX_AGE,
) -> FastAPI:
    """The API: model and scan reads, alert reads and actions, the Slack button endpoint,
    and the dashboard page at ``/``.

    With a ``notifier``, the Slack message is edited right after an action (in the
    background, after the response); without one, the next ``tick`` delivers it.
    """
    # /docs is served from the package (monitor.api.docs), not FastAPI's CDN page.
    app = FastAPI(
        title="monitor", summary="Drift and model-health monitoring", docs_url=None, redoc_url=None
    )
    app.state.monitor = AppState(
        sessions=sessions,
        settings=settings,
        notifier=notifier,
        clock=clock,
        respond=respond or _respond_via_slack,
        config=config,
    )
    app.state.status_cache = StatusCache()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_body=settings.max_body)
    app.include_router(reads.router)
    app.include_router(alerts.router)
    app.include_router(maintenance.router)
    app.include_router(retrainings.router)
    app.include_router(slack_actions.router)
    app.include_router(pagerduty.router)
    _include_ops(app, sessions, clock, collectors, tick_max_age, config)
    dashboard.mount(app)
    return app


def create_ops_app(
    *,
    sessions: Callable[[], Session],
    clock: Callable[[], datetime] = utcnow,
    collectors: Sequence[Collector] | None = None,
    tick_max_age: timedelta = DEFAULT_TICK_MAX_AGE,
    config: Config | None = None,
) -> FastAPI:
    """Only ``/healthz``, ``/readyz`` and ``/metrics``: what ``monitor run --no-api`` serves."""
    app = FastAPI(title="monitor (operations)", docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    _include_ops(app, sessions, clock, collectors, tick_max_age, config)
    return app


def _include_ops(
    app: FastAPI,
    sessions: Callable[[], Session],
    clock: Callable[[], datetime],
    collectors: Sequence[Collector] | None,
    tick_max_age: timedelta,
    config: Config | None,
) -> None:
    """``/healthz``, ``/readyz`` and ``/metrics``, the same on the full and the ops-only app."""
    app.include_router(
        ops_router(
            sessions,
            clock=clock,
            collectors=with_model_collectors(collectors, config),
            tick_max_age=tick_max_age,
            notifiers=config.notifier_names() if config is not None else None,
        )
    )


def with_model_collectors(
    collectors: Sequence[Collector] | None, config: Config | None
) -> Sequence[Collector] | None:
    """The default collectors plus per-model health and check metrics when a config is given.

    An explicit ``collectors`` list is used as it is.
    """
    if collectors is not None or config is None:
        return collectors
    return [*default_collectors(), *model_collectors(config)]


def settings_from_config(config: Config) -> ApiSettings:
    slack = config.slack
    secret = slack.signing_secret if slack is not None else None
    return ApiSettings(
        token=_secret(config.api.token),
        read_token=_secret(config.api.read_token),
        signing_secret=_secret(secret),
        max_body=int(config.api.max_body),
    )


def _secret(value: object) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value) or None


def _respond_via_slack(response_url: str, text: str) -> None:
    from monitor.slack.transport import respond_ephemeral  # slack_sdk: only when it is used

    respond_ephemeral(response_url, text)
