"""``tick(now)``: the one periodic unit of work, whoever calls it.

The scheduler of ``monitor run`` calls it every ``run.tick_every`` (under the tick lease),
``monitor scan`` once after its scans, and the demo after each simulated day. One call judges
staleness, ends expired silences and snoozes, sends due reminders, delivers due outbox rows,
prunes settled notifications and, where asked, scans past ``retention.scans``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts import tick as alerts
from monitor.alerts.dispatch import SessionSource, unit
from monitor.alerts.notify import Notifier
from monitor.alerts.wiring import routing_for
from monitor.config.schema import Config, ModelConfig
from monitor.run.retention import prune_scans
from monitor.scans.service import check_stale


@dataclass(frozen=True)
class TickResult:
    alerts: alerts.TickReport
    pruned_scans: int = 0


def tick(
    sessions: SessionSource,
    *,
    config: Config,
    now: datetime,
    notifier: Notifier,
    judged: Sequence[ModelConfig] | None = None,
    prune_old_scans: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> TickResult:
    """Run one tick at ``now``. ``sessions``: a session factory, or one session (committed
    per step).

    ``judged``: the models whose staleness is judged (default: all; the scheduler leaves out
    models being scanned right now). ``prune_old_scans``: False for ``monitor scan``, whose
    backfill must not delete the old windows it has just stored. ``clock``: the wall clock in
    a long-running service, stamping delivery outcomes when they happen.
    """
    models = list(config.models if judged is None else judged)
    with unit(sessions) as session:
        check_stale(config=config.model_copy(update={"models": models}), session=session, now=now)
    report = alerts.tick(
        sessions,
        now=now,
        notifier=notifier,
        routing=routing_for(config),
        retention=config.retention.notifications,
        clock=clock,
    )
    pruned = 0
    if prune_old_scans:
        pruned = prune_scans(sessions, before=now - config.retention.scans)
    return TickResult(report, pruned)
