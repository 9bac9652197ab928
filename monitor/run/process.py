"""The ``monitor run`` process: scheduler, HTTP server, signals, reload and bounded shutdown.

The main thread only waits for signals. uvicorn serves in a thread (so it installs no
signal handlers of its own) and the scheduler runs its jobs in a pool. SIGTERM / SIGINT:
stop taking work, let a running scan commit or roll back, exit within
``run.shutdown_timeout``; a scan still running then is abandoned, and since it never
committed, the database rolls it back (no half-written scan). SIGHUP reloads the config.

Start-up order: the HTTP server (and so ``/healthz``) comes up first, on the light modules
(FastAPI, SQLAlchemy, the config); then the scan side, whose modules load pandas, scipy,
pyarrow and the notifiers' SDKs (seconds on a busy machine), is imported and the scheduler
started. Until the first tick ``/readyz`` answers 503, so a probe never routes to a
replica whose scheduler is not running yet; API actions taken before the notifier is
built are delivered by that tick.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.alerts.wiring import resolve_removed
from monitor.api.app import create_app, create_ops_app, settings_from_config
from monitor.config import open_config
from monitor.config.schema import Config
from monitor.errors import MonitorError
from monitor.run.logs import logger, setup_logging
from monitor.store import make_engine, make_sessionmaker, state_session

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from fastapi import FastAPI
    from sqlalchemy.orm import Session, sessionmaker

    from monitor.run.scheduler import Activity
    from monitor.run.service import Service


@dataclass(frozen=True)
class RunOptions:
    config_path: str | None
    api: bool = True
    scheduler: bool = True
    host: str = "127.0.0.1"
    port: int = 8000


class Signals:
    """SIGTERM/SIGINT set ``stop``; SIGHUP sets ``reload``. Installed in the main thread."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.received: str | None = None

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop)
        signal.signal(signal.SIGHUP, lambda *_: self.reload.set())

    def _on_stop(self, signum: int, _frame: object) -> None:
        self.received = signal.Signals(signum).name
        self.stop.set()


def serve(options: RunOptions, config: Config) -> int:
    """Run until SIGTERM/SIGINT; the exit code (0 after a clean shutdown)."""
    setup_logging(config)
    with state_session(config.state_db):
        pass  # refuses an unmigrated state DB before anything starts
    listener = listen(options.host, options.port)
    engine = make_engine(config.state_db, pool=config.state_db_pool)
    sessions = make_sessionmaker(engine)
    signals = Signals()
    signals.install()
    app = _app(options, config, sessions)
    server, thread = _start_http(app, listener)
    logger().info("listening", extra={"port": listener.getsockname()[1]})
    service, activity = start_work(config, sessions)
    if options.api:  # edits Slack messages right after an API action from now on
        app.state.monitor = replace(app.state.monitor, notifier=service.notifier)
    scheduler = _start_scheduler(service, activity) if options.scheduler else None
    stop_socket = _start_socket_mode(service) if options.scheduler else None
    # The readiness line: written once everything runs and the port accepts connections,
    # with the port bound (the one the OS picked for `--port 0`).
    logger().info("started", extra=_started_fields(options, service, listener))
    code = _wait(signals, service, options, scheduler, activity, thread)
    code = _shutdown(service, scheduler, activity, server, thread, stop_socket) or code
    service.engines.dispose()
    engine.dispose()
    return code


def start_work(config: Config, sessions: sessionmaker[Session]) -> tuple[Service, Activity]:
    """The scan side: imported here, after the HTTP server is up, because its modules load
    pandas, scipy and pyarrow (seconds of start-up) that only a scan needs."""
    from monitor.run.scheduler import Activity
    from monitor.run.service import Service
    from monitor.sources import SourceEngines

    service = Service(config=config, sessions=sessions, engines=SourceEngines(config.sources))
    return service, Activity()


def warm_up() -> None:
    """Import what a scan needs now, so the first scheduled scan is not seconds late."""
    import importlib

    for name in ("pandas", "scipy.stats", "checks.registry", "monitor.scans.service"):
        importlib.import_module(name)


def _start_scheduler(service: Service, activity: Activity) -> BackgroundScheduler:
    from monitor.run.scheduler import build_scheduler

    warm_up()
    with service.sessions() as session:
        resolve_removed(session=session, config=service.config, now=datetime.now(UTC))
        session.commit()
    service.claim_shards()  # before the first firings, which scan only our shards' models
    scheduler = build_scheduler(service, activity)
    scheduler.start()
    return scheduler


def _start_socket_mode(service: Service) -> object | None:
    from monitor.run.notifiers import start_socket_mode

    return start_socket_mode(
        config=service.config, sessions=service.sessions, clock=lambda: datetime.now(UTC)
    )


def tick_max_age(config: Config) -> timedelta:
    # Three missed ticks, and never less than 30 s so one slow Slack round is not "unready".
    return max(3 * config.run.tick_every, timedelta(seconds=30))


def _app(options: RunOptions, config: Config, sessions: sessionmaker[Session]) -> FastAPI:
    """The HTTP app, without a notifier until :func:`serve` has built the scan side."""
    max_age = tick_max_age(config)
    if not options.api:
        return create_ops_app(sessions=sessions, tick_max_age=max_age, config=config)
    return create_app(
        sessions=sessions,
        settings=settings_from_config(config),
        tick_max_age=max_age,
        config=config,
    )


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before any work starts: a taken port is a clear error at
    once (not a dead HTTP thread after the first scans), and ``--port 0`` gets a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise MonitorError(f"cannot listen on {host}:{port}: {reason}") from None


def _start_http(app: FastAPI, listener: socket.socket) -> tuple[object, threading.Thread]:
    import uvicorn

    config = uvicorn.Config(app, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="http", daemon=True
    )
    thread.start()
    return server, thread


def _wait(
    signals: Signals,
    service: Service,
    options: RunOptions,
    scheduler: BackgroundScheduler | None,
    activity: Activity,
    http: threading.Thread,
) -> int:
    while not signals.stop.wait(0.2):
        if not http.is_alive():
            logger().error("the HTTP server stopped", extra={"port": options.port})
            return 1
        if signals.reload.is_set():
            signals.reload.clear()
            _reload(options, service, scheduler, activity)
    logger().info("stopping", extra={"signal": signals.received})
    return 0


def _reload(
    options: RunOptions,
    service: Service,
    scheduler: BackgroundScheduler | None,
    activity: Activity,
) -> None:
    try:
        config = open_config(options.config_path)
    except MonitorError as exc:  # keep running on the config we have
        logger().error(
            "config reload failed; keeping the running config", extra={"error": str(exc)}
        )
        return
    if config.state_db != service.config.state_db:
        logger().warning("state_db changed: restart to use it; reloading the rest")
        config = config.model_copy(update={"state_db": service.config.state_db})
    from monitor.run.scheduler import add_jobs
    from monitor.sources import SourceEngines

    setup_logging(config)
    old = service.engines
    service.engines = SourceEngines(config.sources)
    service.reload(config)
    old.dispose()
    if scheduler is not None:
        with service.sessions() as session:
            resolve_removed(session=session, config=config, now=datetime.now(UTC))
            session.commit()
        add_jobs(scheduler, service, activity)
    logger().info("config reloaded", extra={"models": [m.name for m in config.models]})


def _shutdown(
    service: Service,
    scheduler: BackgroundScheduler | None,
    activity: Activity,
    server: object,
    http: threading.Thread,
    stop_socket: object | None,
) -> int:
    deadline = time.monotonic() + service.config.run.shutdown_timeout.total_seconds()
    service.stopping.set()
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    server.should_exit = True  # type: ignore[attr-defined]
    if callable(stop_socket):
        stop_socket()
    idle = activity.wait_idle(max(deadline - time.monotonic(), 0))
    http.join(max(deadline - time.monotonic(), 0.1))
    if not idle:
        # The running scan never committed: exiting closes its connection, which rolls it back.
        logger().error("shutdown timed out with a scan running; it is rolled back")
        os._exit(1)
    if scheduler is not None:
        service.release_shards()
    logger().info("stopped")
    return 0


def _started_fields(
    options: RunOptions, service: Service, listener: socket.socket
) -> dict[str, object]:
    return {
        "holder": service.holder,
        "api": options.api,
        "scheduler": options.scheduler,
        "host": options.host,
        "port": listener.getsockname()[1],
        "models": [m.name for m in service.config.models],
    }
