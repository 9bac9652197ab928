"""Writing and claiming outbox rows.

Rows are written by the lifecycle in the caller's transaction. Claims are leases
(``claimed_until``): a worker killed mid-call leaves its rows to be claimed again once the
lease expires, which is what makes delivery at-least-once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Update, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from monitor import dialect
from monitor.alerts.policy import is_external
from monitor.store import Alert, Notification

CLAIM_LEASE = timedelta(minutes=2)


def enqueue(
    session: Session,
    alert: Alert,
    kind: str,
    *,
    now: datetime,
    channel: str | None = None,
    event: str = "",
    data: Mapping[str, Any] | None = None,
    broadcast: bool = False,
) -> Notification | None:
    """Add an outbox row for ``alert``: a post to ``channel``; an update or a reply to every
    destination the alert was posted to (each has its own row stream). Updates re-render the
    alert, so one pending per destination is enough. Returns the first row added.

    A reply carries ``event`` (its kind) and ``data`` (its facts); the notifier words it."""
    targets = [channel] if kind == "post" else _destinations(session, alert)
    added = []
    for target in targets or [channel]:
        target = target or alert.slack_channel or ""
        if kind == "update" and _pending_update_exists(session, alert.id, target):
            continue
        added.append(_row(alert, kind, target, now, event, data, broadcast))
        session.add(added[-1])
    return added[0] if added else None


def posted_missing(session: Session, alert: Alert, channels: list[str]) -> list[str]:
    """The ``channels`` ``alert`` has no post row for yet. The thread's channel (Slack or the
    console) counts as one destination, however it is spelt."""
    posted = set(_posted_channels(session, alert.id))
    thread_posted = alert.slack_ts is not None or any(not is_external(c) for c in posted)
    return [c for c in channels if c not in posted and (is_external(c) or not thread_posted)]


def _posted_channels(session: Session, alert_id: int) -> list[str]:
    query = (
        select(Notification.channel)
        .where(Notification.alert_id == alert_id, Notification.kind == "post")
        .group_by(Notification.channel)
        .order_by(func.min(Notification.id))
    )
    return list(session.scalars(query))


def _destinations(session: Session, alert: Alert) -> list[str]:
    """Where edits and replies of ``alert`` go: its thread (by the id Slack answered with,
    once known), then each other destination it was posted to."""
    targets: list[str] = []
    for channel in _posted_channels(session, alert.id):
        target = channel if is_external(channel) else (alert.slack_channel or channel)
        if target not in targets:
            targets.append(target)
    return targets


def _row(
    alert: Alert,
    kind: str,
    channel: str,
    now: datetime,
    event: str,
    data: Mapping[str, Any] | None,
    broadcast: bool,
) -> Notification:
    return Notification(
        alert_id=alert.id,
        kind=kind,
        channel=channel,
        event=event,
        data=dict(data or {}),
        broadcast=broadcast,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )


def _pending_update_exists(session: Session, alert_id: int, channel: str) -> bool:
    # An update already claimed may have rendered the old state: only an unclaimed one counts.
    query = select(Notification.id).where(
        Notification.alert_id == alert_id,
        Notification.channel == channel,
        Notification.kind == "update",
        Notification.status == "pending",
        Notification.claimed_until.is_(None),
    )
    return session.scalars(query.limit(1)).first() is not None


def due_query(now: datetime, limit: int) -> Select[int]:
    """Due, unclaimed rows with no earlier row still pending for the same alert and
    destination (per-destination order: a PagerDuty retrying does not hold up the thread)."""
    earlier = aliased(Notification)
    thread = and_(~earlier.channel.contains(":"), ~Notification.channel.contains(":"))
    blocked = exists().where(
        earlier.alert_id == Notification.alert_id,
        earlier.id < Notification.id,
        earlier.status == "pending",
        or_(earlier.channel == Notification.channel, thread),
    )
    return (
        select(Notification.id)
        .where(
            Notification.status == "pending",
            Notification.next_attempt_at <= now,
            or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
            ~blocked,
        )
        .order_by(Notification.id)
        .limit(limit)
    )


def claim_due(
    session: Session, *, now: datetime, limit: int = 50, by: str | None = None
) -> list[int]:
    """Claim due rows for the delivery pass ``by`` and return their ids; the caller commits.

    The pass renews each claim (:func:`renew_claim`) right before it calls the notifier, so a
    long batch keeps the row it is working on; rows it has not reached when their claim
    expires may be claimed by another pass, and are then skipped by this one.
    """
    by = by or uuid.uuid4().hex
    query = due_query(now, limit)
    if dialect.locks_rows(session):
        ids = list(session.scalars(query.with_for_update(skip_locked=True, of=Notification)))
        if ids:
            session.execute(_claim(now, by).where(Notification.id.in_(ids)))
        return ids
    # SQLite has no row locks: a conditional UPDATE per row decides which worker gets it.
    claimed = []
    for row_id in session.scalars(query).all():
        result = session.execute(
            _claim(now, by).where(
                Notification.id == row_id,
                Notification.status == "pending",
                or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row_id)
    return claimed


def renew_claim(session: Session, row_id: int, *, by: str, now: datetime) -> bool:
    """Extend pass ``by``'s claim on a pending row to ``now + CLAIM_LEASE``; False when the
    row is settled or its claim now belongs to another pass."""
    result = session.execute(
        _claim(now, by).where(
            Notification.id == row_id,
            Notification.claimed_by == by,
            Notification.status == "pending",
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _claim(now: datetime, by: str) -> Update:
    return (
        update(Notification)
        .values(claimed_until=now + CLAIM_LEASE, claimed_by=by)
        .execution_options(synchronize_session=False)
    )
