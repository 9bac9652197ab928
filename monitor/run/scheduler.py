"""APScheduler 3 wiring: one job per model on its grid, ``tick`` every ``run.tick_every``,
the shard claim every third of ``run.lease``.

Jobs come from the config (an in-memory job store, never a pickled one) and only wire
triggers to :class:`~monitor.run.service.Service` units. ``{every: 15m}`` uses an
interval trigger on the Unix epoch's grid, so it fires on the same UTC grid the window ends
come from. Every job also runs once at start: that run is the catch-up of the windows missed
while nothing ran, and the grid trigger keeps it from shifting the later firings. A firing
of a model whose shard another replica holds returns at once; the models of a shard gained
later (a replica left or died) run at once, their catch-up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
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
        return grid_interval(grid.interval.total_seconds())
    return grid.trigger()


def grid_interval(seconds: float) -> BaseTrigger:
    """An interval trigger firing at the multiples of ``seconds`` since the Unix epoch.

    APScheduler's IntervalTrigger schedules the next firing at the previous one plus the
    interval, so the start-up run (at whatever second the process started) would shift every
    later firing off the grid: a process started at :59 would scan each hourly window 59
    minutes late. This one always answers the first grid point after the previous firing.
    """
    from apscheduler.triggers.interval import IntervalTrigger

    class GridInterval(IntervalTrigger):  # type: ignore[misc]  # APScheduler 3 ships no type hints
        def get_next_fire_time(
            self, previous_fire_time: datetime | None, now: datetime
        ) -> datetime | None:
            if previous_fire_time is not None:
                now = max(now, previous_fire_time + timedelta(microseconds=1))
            fire: datetime | None = super().get_next_fire_time(None, now)
            return fire

        def __str__(self) -> str:
            return f"every {self.interval_length:g} s on the epoch grid"

    return GridInterval(seconds=seconds, start_date=EPOCH, timezone=UTC)


def build_scheduler(service: Service, activity: Activity) -> BackgroundScheduler:
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    # Up to 8 scans at once, and a thread each for tick and the shard claim, so neither
    # delays a scan (a small fleet scanned every few seconds would turn stale meanwhile).
    workers = min(len(service.config.models), 8) + 2
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
    now = datetime.now(UTC)
    wanted = {f"scan:{m.name}" for m in service.config.models}
    for job in scheduler.get_jobs():
        if job.id.startswith("scan:") and job.id not in wanted:
            job.remove()
    for model in service.config.models:
        scheduler.add_job(
            activity.track(service.scheduled_scan),
            trigger_for(model),
            args=[model.name],
            id=f"scan:{model.name}",
            name=f"scan {model.name}",
            replace_existing=True,
            next_run_time=now,
        )
    _add_digest(scheduler, service, activity)
    scheduler.add_job(
        activity.track(partial(claim_shards, scheduler, service)),
        "interval",
        seconds=service.config.run.lease.total_seconds() / 3,
        id="shards",
        name="claim shards",
        replace_existing=True,
    )
    every = service.config.run.tick_every.total_seconds()
    scheduler.add_job(
        activity.track(service.tick),
        grid_interval(every),
        id="tick",
        name="tick",
        replace_existing=True,
        next_run_time=now,
    )


def claim_shards(scheduler: BackgroundScheduler, service: Service) -> None:
    """Renew and rebalance the shards; the models of shards gained are scanned now."""
    now = datetime.now(UTC)
    for name in service.claim_shards():
        job = scheduler.get_job(f"scan:{name}")
        if job is not None:
            job.modify(next_run_time=now)


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
