"""APScheduler 3 wiring: one job per model on its grid, ``tick`` every ``run.tick_every``.

Jobs come from the config (an in-memory job store, never a pickled one) and only wire
triggers to :class:`~monitor.run.service.Service` units. ``{every: 15m}`` uses an
IntervalTrigger started at the Unix epoch, so it fires on the same UTC grid the window ends
come from (APScheduler would otherwise count from process start). Every job also runs once
at start: that run is the catch-up of the windows missed while nothing ran.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.config.schema import ModelConfig
from monitor.run.service import Service
from monitor.windows import EPOCH, Every

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.base import BaseTrigger


class Activity:
    """Counts the jobs running now, so shutdown can wait for them with a deadline."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def track(self, job: Callable[..., None]) -> Callable[..., None]:
        def run(*args: Any) -> None:
            with self._idle:
                self._count += 1
            try:
                job(*args)
            finally:
                with self._idle:
                    self._count -= 1
                    self._idle.notify_all()

        return run

    def wait_idle(self, timeout: float) -> bool:
        """True when no job is running (any more) within ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout=timeout)


def trigger_for(model: ModelConfig) -> BaseTrigger:
    grid = model.grid
    if isinstance(grid, Every):
        from apscheduler.triggers.interval import IntervalTrigger

        seconds = grid.interval.total_seconds()
        return IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=UTC)
    return grid.trigger()


def build_scheduler(service: Service, activity: Activity) -> BackgroundScheduler:
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    workers = min(len(service.config.models) + 1, 8)
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        # One instance per job; a late firing still runs once (due windows come from the DB).
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    add_jobs(scheduler, service, activity)
    return scheduler


def add_jobs(scheduler: BackgroundScheduler, service: Service, activity: Activity) -> None:
    """(Re)create the jobs of ``service.config``; each runs once now, then on its trigger."""
    from apscheduler.triggers.interval import IntervalTrigger

    now = datetime.now(UTC)
    wanted = {f"scan:{m.name}" for m in service.config.models}
    for job in scheduler.get_jobs():
        if job.id.startswith("scan:") and job.id not in wanted:
            job.remove()
    for model in service.config.models:
        scheduler.add_job(
            activity.track(service.scan_model),
            trigger_for(model),
            args=[model.name],
            id=f"scan:{model.name}",
            name=f"scan {model.name}",
            replace_existing=True,
            next_run_time=now,
        )
    _add_digest(scheduler, service, activity)
    every = service.config.run.tick_every.total_seconds()
    scheduler.add_job(
        activity.track(service.tick),
        IntervalTrigger(seconds=every, start_date=EPOCH, timezone=UTC),
        id="tick",
        name="tick",
        replace_existing=True,
        next_run_time=now,
    )


def _add_digest(scheduler: BackgroundScheduler, service: Service, activity: Activity) -> None:
    """The Slack health digest on ``slack.digest.schedule`` (UTC), when configured."""
    from apscheduler.triggers.cron import CronTrigger

    slack = service.config.slack
    if slack is None or slack.digest is None:
        if scheduler.get_job("digest"):
            scheduler.remove_job("digest")
        return
    scheduler.add_job(
        activity.track(service.digest),
        CronTrigger.from_crontab(slack.digest.schedule, timezone=UTC),
        id="digest",
        name="slack digest",
        replace_existing=True,
    )
