"""Writing and claiming outbox rows.

Rows are written by the lifecycle in the caller's transaction. Claims are leases
(``claimed_until``): a worker killed mid-call leaves its rows to be claimed again once the
lease expires, which is what makes delivery at-least-once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, Update, and_, exists, func, insert, or_, select, update

from monitor import dialect
from monitor.alerts.policy import is_external
from monitor.store import tables

if TYPE_CHECKING:
    from monitor.store.rows import AlertRow, Reader

# Core statements: they run on an ORM session and on a plain connection (`monitor ack`) alike.
OUTBOX = tables.notification

CLAIM_LEASE = timedelta(minutes=2)
PENDING = "pending"
HELD = "held"


def enqueue(
    session: Reader,
    alert: AlertRow,
    kind: str,
    *,
    now: datetime,
    channel: str | None = None,
    event: str = "",
    data: Mapping[str, Any] | None = None,
    broadcast: bool = False,
    held: bool = False,
) -> int:
    """Add an outbox row for ``alert``: a post to ``channel``; an update or a reply to every
    destination the alert was posted to (each has its own row stream). Updates re-render the
    alert, so one pending per destination is enough.

    A reply carries ``event`` (its kind) and ``data`` (its facts); the notifier words it.
    ``held``: written as ``held``, not ``pending`` (a backfill's transitions): nothing
    delivers it; :func:`monitor.alerts.backfill.release_held` replaces the held rows of an
    alert with one notification of its final state. Returns how many rows were added."""
    targets = [channel] if kind == "post" else _destinations(session, alert)
    added = 0
    for target in targets or [channel]:
        target = target or alert.slack_channel or ""
        status = HELD if held else PENDING
        if kind == "update" and _pending_update_exists(session, alert.id, target, status):
            continue
        row = _row(alert, kind, target, now, event, data, broadcast, status)
        session.execute(insert(OUTBOX).values(**row))
        added += 1
    return added


def posted_missing(session: Reader, alert: AlertRow, channels: list[str]) -> list[str]:
    """The ``channels`` ``alert`` has no post row for yet. The thread's channel (Slack or the
    console) counts as one destination, however it is spelt."""
    posted = set(_posted_channels(session, alert.id))
    thread_posted = alert.slack_ts is not None or any(not is_external(c) for c in posted)
    return [c for c in channels if c not in posted and (is_external(c) or not thread_posted)]


def _posted_channels(session: Reader, alert_id: int) -> list[str]:
    query = (
        select(OUTBOX.c.channel)
        .where(
            OUTBOX.c.alert_id == alert_id,
            OUTBOX.c.kind == "post",
            OUTBOX.c.status != "dropped",  # a backfill's held post, summarised instead
        )
        .group_by(OUTBOX.c.channel)
        .order_by(func.min(OUTBOX.c.id))
    )
    return list(session.scalars(query))


def _destinations(session: Reader, alert: AlertRow) -> list[str]:
    """Where edits and replies of ``alert`` go: its thread (by the id Slack answered with,
    once known), then each other destination it was posted to."""
    targets: list[str] = []
    for channel in _posted_channels(session, alert.id):
        target = channel if is_external(channel) else (alert.slack_channel or channel)
        if target not in targets:
            targets.append(target)
    return targets


def _row(
    alert: AlertRow,
    kind: str,
    channel: str,
    now: datetime,
    event: str,
    data: Mapping[str, Any] | None,
    broadcast: bool,
    status: str,
) -> dict[str, Any]:
    return {
        "alert_id": alert.id,
        "kind": kind,
        "channel": channel,
        "event": event,
        "data": dict(data or {}),
        "broadcast": broadcast,
        "status": status,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def _pending_update_exists(session: Reader, alert_id: int, channel: str, status: str) -> bool:
    # An update already claimed may have rendered the old state: only an unclaimed one counts.
    query = select(OUTBOX.c.id).where(
        OUTBOX.c.alert_id == alert_id,
        OUTBOX.c.channel == channel,
        OUTBOX.c.kind == "update",
        OUTBOX.c.status == status,
        OUTBOX.c.claimed_until.is_(None),
    )
    return session.scalars(query.limit(1)).first() is not None


def due_query(now: datetime, limit: int) -> Select[int]:
    """Due, unclaimed rows with no earlier row still pending for the same alert and
    destination (per-destination order: a PagerDuty retrying does not hold up the thread)."""
    earlier = OUTBOX.alias("earlier").c
    thread = and_(~earlier.channel.contains(":"), ~OUTBOX.c.channel.contains(":"))
    blocked = exists().where(
        earlier.alert_id == OUTBOX.c.alert_id,
        earlier.id < OUTBOX.c.id,
        earlier.status == "pending",
        or_(earlier.channel == OUTBOX.c.channel, thread),
    )
    return (
        select(OUTBOX.c.id)
        .where(
            OUTBOX.c.status == "pending",
            OUTBOX.c.next_attempt_at <= now,
            or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until <= now),
            ~blocked,
        )
        .order_by(OUTBOX.c.id)
        .limit(limit)
    )


def claim_due(
    session: Reader, *, now: datetime, limit: int = 50, by: str | None = None
) -> list[int]:
    """Claim due rows for the delivery pass ``by`` and return their ids; the caller commits.

    The pass renews each claim (:func:`renew_claim`) right before it calls the notifier, so a
    long batch keeps the row it is working on; rows it has not reached when their claim
    expires may be claimed by another pass, and are then skipped by this one.
    """
    by = by or uuid.uuid4().hex
    query = due_query(now, limit)
    if dialect.locks_rows(session):
        ids = list(session.scalars(query.with_for_update(skip_locked=True, of=OUTBOX)))
        if ids:
            session.execute(_claim(now, by).where(OUTBOX.c.id.in_(ids)))
        return ids
    # SQLite has no row locks: a conditional UPDATE per row decides which worker gets it.
    claimed = []
    for row_id in session.scalars(query).all():
        result = session.execute(
            _claim(now, by).where(
                OUTBOX.c.id == row_id,
                OUTBOX.c.status == "pending",
                or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until <= now),
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row_id)
    return claimed


def renew_claim(session: Reader, row_id: int, *, by: str, now: datetime) -> bool:
    """Extend pass ``by``'s claim on a pending row to ``now + CLAIM_LEASE``; False when the
    row is settled or its claim now belongs to another pass."""
    result = session.execute(
        _claim(now, by).where(
            OUTBOX.c.id == row_id,
            OUTBOX.c.claimed_by == by,
            OUTBOX.c.status == "pending",
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _claim(now: datetime, by: str) -> Update:
    return update(OUTBOX).values(claimed_until=now + CLAIM_LEASE, claimed_by=by)
