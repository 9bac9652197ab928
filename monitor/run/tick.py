"""``tick(now)``: the one periodic unit of work, whoever calls it.

The scheduler of ``monitor run`` calls it every ``run.tick_every`` on every replica, each
judging its own shards' models, and the tick lease's holder does the rest (``alerts``),
``monitor scan`` once after its scans, and the demo after each simulated day. One call judges
staleness, ends expired silences and snoozes, sends due reminders, delivers due outbox rows,
prunes settled notifications and, where asked, scans past ``retention.scans``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts import tick as alert_tick
from monitor.alerts.dispatch import SessionSource, unit
from monitor.alerts.notify import Notifier
from monitor.alerts.wiring import routing_for
from monitor.config.schema import Config, ModelConfig
from monitor.run.retention import prune_scans
from monitor.scans.service import check_stale
from monitor.scans.staleness import Staleness


@dataclass(frozen=True)
class TickResult:
    alerts: alert_tick.TickReport
    pruned_scans: int = 0


def tick(
    sessions: SessionSource,
    *,
    config: Config,
    now: datetime,
    notifier: Notifier,
    judged: Sequence[ModelConfig] | None = None,
    prune_old_scans: bool = True,
    alerts: bool = True,
    clock: Callable[[], datetime] | None = None,
    staleness: Staleness | None = None,
) -> TickResult:
    """Run one tick at ``now``. ``sessions``: a session factory, or one session (committed
    per step).

    ``judged``: the models whose staleness is judged (default: all; the scheduler leaves out
    models being scanned right now). ``prune_old_scans``: False for ``monitor scan``, whose
    backfill must not delete the old windows it has just stored. ``alerts``: False to judge
    staleness only (another replica holds the tick lease). ``clock``: the wall clock in
    a long-running service, stamping delivery outcomes when they happen. ``staleness``: the
    service's next-check times, so only models whose verdict may have changed are read.
    """
    models = list(config.models if judged is None else judged)
    if models:
        with unit(sessions) as session:
            stale_config = config.model_copy(update={"models": models})
            check_stale(config=stale_config, session=session, now=now, watch=staleness)
    if not alerts:
        return TickResult(alert_tick.TickReport())
    report = alert_tick.tick(
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
