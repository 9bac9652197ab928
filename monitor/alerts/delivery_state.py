"""The outbox at a glance for ``/readyz`` and ``/metrics``: counts, the oldest waiting row,
the newest error, and one line per notification refused for good. The operational endpoints
read the outbox only through here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select

from monitor import views
from monitor.alerts.policy import is_external
from monitor.store import tables
from monitor.store.rows import Reader

Notification = tables.notification.c  # Core columns: read on a connection or a session


@dataclass(frozen=True)
class OutboxState:
    """The outbox at a glance, for ``/readyz`` and ``/metrics``."""

    pending: int
    due: int  # pending rows whose next attempt is now or past
    failed: int  # refused for good
    retrying: int  # pending after a failed attempt
    oldest_pending_at: datetime | None
    last_error: str | None  # of the newest row not sent


def outbox_state(*, session: Reader, now: datetime) -> OutboxState:
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


def delivery_problems(
    *, session: Reader, limit: int = 20, where: ColumnElement[bool] | None = None
) -> list[str]:
    """One line per notification refused for good (bad channel, revoked token, ...), newest
    first: delivery trouble is shown, never hidden. ``where`` narrows to some channels."""
    query = (
        select(tables.notification)
        .where(Notification.status == "failed", *([] if where is None else [where]))
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    lines = []
    for row in session.execute(query):
        channel = f" to {row.channel}" if row.channel else ""
        lines.append(
            f"notification {row.id} ({row.kind}{channel}) for alert {row.alert_id} "
            f"not delivered: {row.last_error}"
        )
    return lines


def failures_by_channel(*, session: Reader) -> dict[tuple[str, str], int]:
    """Notifications ``failed`` (refused for good) and ``retrying`` (pending after an error)
    by outbox channel: ``{("pagerduty:oncall", "failed"): 2}``; channels without any are left
    out."""
    query = (
        select(Notification.channel, Notification.status, func.count())
        .where(
            or_(
                Notification.status == "failed",
                and_(Notification.status == "pending", Notification.last_error.is_not(None)),
            )
        )
        .group_by(Notification.channel, Notification.status)
    )
    kinds = {"failed": "failed", "pending": "retrying"}
    return {(channel, kinds[status]): n for channel, status, n in session.execute(query)}


def notifier_delivery(
    *, session: Reader, names: Sequence[str], limit: int = 5
) -> list[views.NotifierDelivery]:
    """The delivery state of each notifier in ``names`` (``slack`` or ``console`` first: the
    thread's, whose rows are every channel that is not a ``kind:name`` destination), then of
    any other destination that still has failed or retrying rows (one since removed from the
    config, say): a refused notification is shown, never hidden."""
    thread, others = names[0], list(names[1:])
    counts: Counter[tuple[str, str]] = Counter()
    for (channel, kind), n in failures_by_channel(session=session).items():
        counts[(channel if is_external(channel) else thread, kind)] += n
    troubled = sorted({name for name, _ in counts} - {thread, *others})
    return [
        _one(session, name, thread=thread, counts=counts, limit=limit)
        for name in [thread, *others, *troubled]
    ]


def _one(
    session: Reader, name: str, *, thread: str, counts: Counter[tuple[str, str]], limit: int
) -> views.NotifierDelivery:
    where = ~Notification.channel.contains(":") if name == thread else Notification.channel == name
    failed, retrying = counts[(name, "failed")], counts[(name, "retrying")]
    last_error = None
    if failed or retrying:
        last_error = session.scalar(
            select(Notification.last_error)
            .where(where, Notification.last_error.is_not(None), Notification.status != "sent")
            .order_by(Notification.id.desc())
            .limit(1)
        )
    return views.NotifierDelivery(
        name=name,
        kind=name.partition(":")[0],
        status="degraded" if failed or retrying else "ok",
        failed=failed,
        retrying=retrying,
        last_error=last_error,
        problems=delivery_problems(session=session, limit=limit, where=where) if failed else [],
    )
