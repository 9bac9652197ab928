"""The outbox at a glance for ``/readyz`` and ``/metrics``: counts, the oldest waiting row,
the newest error, and one line per notification refused for good. The operational endpoints
read the outbox only through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from monitor.store import Notification


@dataclass(frozen=True)
class OutboxState:
    """The outbox at a glance, for ``/readyz`` and ``/metrics``."""

    pending: int
    due: int  # pending rows whose next attempt is now or past
    failed: int  # refused for good
    retrying: int  # pending after a failed attempt
    oldest_pending_at: datetime | None
    last_error: str | None  # of the newest row not sent


def outbox_state(*, session: Session, now: datetime) -> OutboxState:
    def count(*criteria: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count(Notification.id)).where(and_(*criteria))) or 0

    pending = Notification.status == "pending"
    last_error = session.scalar(
        select(Notification.last_error)
        .where(Notification.last_error.is_not(None), Notification.status != "sent")
        .order_by(Notification.id.desc())
        .limit(1)
    )
    return OutboxState(
        pending=count(pending),
        due=count(pending, Notification.next_attempt_at <= now),
        failed=count(Notification.status == "failed"),
        retrying=count(pending, Notification.last_error.is_not(None)),
        oldest_pending_at=session.scalar(select(func.min(Notification.created_at)).where(pending)),
        last_error=last_error,
    )


def delivery_problems(*, session: Session, limit: int = 20) -> list[str]:
    """One line per notification refused for good (bad channel, revoked token, ...), newest
    first: delivery trouble is shown, never hidden."""
    query = (
        select(Notification)
        .where(Notification.status == "failed")
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    lines = []
    for row in session.scalars(query):
        channel = f" to {row.channel}" if row.channel else ""
        lines.append(
            f"notification {row.id} ({row.kind}{channel}) for alert {row.alert_id} "
            f"not delivered: {row.last_error}"
        )
    return lines
