"""``tick``: the alerting layer's part of the periodic unit of work.

One call ends expired silences and snoozes, sends due reminders, pages again unacknowledged
criticals past ``escalate_after`` and acknowledgements past ``ack_timeout``, delivers due
outbox rows and prunes old ones, then returns. :func:`monitor.run.tick.tick` (the one tick
the scheduler, ``monitor scan`` and the demo call) runs it after judging staleness; several
replicas may call it at once (claims keep them apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete

from monitor.alerts.dispatch import (
    Clock,
    DeliveryReport,
    SessionSource,
    deliver_due,
    unit,
)
from monitor.alerts.escalation import expire_acknowledgements, repage_unacknowledged
from monitor.alerts.holds import prune_holds
from monitor.alerts.notify import Notifier
from monitor.alerts.policy import Routing
from monitor.alerts.store import Transition
from monitor.alerts.timers import end_silences, end_snoozes, send_due_reminders
from monitor.store import tables

NOTIFICATION_RETENTION = timedelta(days=30)


@dataclass
class TickReport:
    transitions: list[Transition] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    pruned: int = 0


def tick(
    sessions: SessionSource,
    *,
    now: datetime,
    notifier: Notifier,
    routing: Routing | None = None,
    batch: int = 50,
    retention: timedelta | None = NOTIFICATION_RETENTION,
    clock: Clock | None = None,
) -> TickReport:
    """Run one tick. ``sessions`` is a session factory (or one session, committed per step).

    ``clock`` (e.g. the wall clock) stamps delivery outcomes with the time they happen, so a
    429's Retry-After counts from the answer even late in a slow pass; without it every row is
    stamped ``now``.
    """
    routing = routing or Routing()
    report = TickReport()
    with unit(sessions) as session:
        report.transitions += end_silences(session=session, now=now)
        report.transitions += end_snoozes(session=session, now=now)
        report.transitions += send_due_reminders(session=session, now=now, routing=routing)
        report.transitions += repage_unacknowledged(session=session, now=now, routing=routing)
        report.transitions += expire_acknowledgements(session=session, now=now, routing=routing)
        session.commit()
    deliver_due(
        sessions, now=now, notifier=notifier, report=report.delivery, batch=batch, clock=clock
    )
    if retention is not None:
        report.pruned = _prune(sessions, now - retention, now)
    return report


def _prune(sessions: SessionSource, before: datetime, now: datetime) -> int:
    with unit(sessions) as session:
        result = session.execute(
            delete(tables.notification).where(
                # Held rows wait for their backfill's release, however long it takes.
                tables.notification.c.status.not_in(("pending", "held")),
                tables.notification.c.created_at < before,
            )
        )
        prune_holds(session, now=now)
        session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
