"""``tick``: the periodic unit of work of the alerting layer.

One call ends expired silences and snoozes, sends due reminders, delivers due outbox rows and
prunes old ones, then returns. ``monitor scan`` calls it at its end and ``monitor run`` every
minute; several replicas may call it at once (claims keep them apart).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from monitor.alerts.dispatch import DeliveryReport, deliver_one
from monitor.alerts.models import Notification
from monitor.alerts.notify import Notifier
from monitor.alerts.outbox import claim_due
from monitor.alerts.policy import Routing
from monitor.alerts.store import Transition
from monitor.alerts.timers import end_silences, end_snoozes, send_due_reminders

NOTIFICATION_RETENTION = timedelta(days=30)
# Rows of one alert go one per round (in order); a few rounds deliver a whole burst.
_MAX_ROUNDS = 20


@dataclass
class TickReport:
    transitions: list[Transition] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    pruned: int = 0


SessionSource = Callable[[], Session] | Session


def tick(
    sessions: SessionSource,
    *,
    now: datetime,
    notifier: Notifier,
    routing: Routing | None = None,
    batch: int = 50,
    retention: timedelta | None = NOTIFICATION_RETENTION,
) -> TickReport:
    """Run one tick. ``sessions`` is a session factory (or one session, committed per step)."""
    routing = routing or Routing()
    report = TickReport()
    with _unit(sessions) as session:
        report.transitions += end_silences(session=session, now=now)
        report.transitions += end_snoozes(session=session, now=now)
        report.transitions += send_due_reminders(session=session, now=now, routing=routing)
        session.commit()
    deliver_due(sessions, now=now, notifier=notifier, report=report.delivery, batch=batch)
    if retention is not None:
        report.pruned = _prune(sessions, now - retention)
    return report


def deliver_due(
    sessions: SessionSource,
    *,
    now: datetime,
    notifier: Notifier,
    report: DeliveryReport | None = None,
    batch: int = 50,
) -> DeliveryReport:
    """Claim and deliver due outbox rows until none is left (or a few rounds have run)."""
    report = report or DeliveryReport()
    for _ in range(_MAX_ROUNDS):
        settled_before = report.sent + report.dropped + report.failed
        with _unit(sessions) as session:
            claimed = claim_due(session, now=now, limit=batch)
            session.commit()
        for row_id in claimed:
            with _unit(sessions) as session:
                deliver_one(
                    session=session, row_id=row_id, notifier=notifier, now=now, report=report
                )
                session.commit()
        # Stop when a round only deferred rows: what is left waits for a later tick.
        if not claimed or report.sent + report.dropped + report.failed == settled_before:
            break
    return report


def _prune(sessions: SessionSource, before: datetime) -> int:
    with _unit(sessions) as session:
        result = session.execute(
            delete(Notification).where(
                Notification.status != "pending", Notification.created_at < before
            )
        )
        session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def _unit(sessions: SessionSource) -> AbstractContextManager[Session]:
    if isinstance(sessions, Session):
        return nullcontext(sessions)
    return sessions()
