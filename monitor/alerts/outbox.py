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

from sqlalchemy import Select, Update, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from monitor import dialect
from monitor.store import Alert, Notification

CLAIM_LEASE = timedelta(minutes=2)
PENDING = "pending"
HELD = "held"


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
    held: bool = False,
) -> Notification | None:
    """Add an outbox row for ``alert``. Updates re-render the alert, so one pending is enough.

    A reply carries ``event`` (its kind) and ``data`` (its facts); the notifier words it.
    ``held``: written as ``held``, not ``pending`` (a backfill's transitions): nothing
    delivers it; :func:`monitor.alerts.backfill.release_held` replaces the held rows of an
    alert with one notification of its final state."""
    if kind == "update" and _pending_update_exists(session, alert.id, HELD if held else PENDING):
        return None
    row = Notification(
        alert_id=alert.id,
        kind=kind,
        channel=channel or alert.slack_channel or "",
        event=event,
        data=dict(data or {}),
        broadcast=broadcast,
        status=HELD if held else PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    return row


def _pending_update_exists(session: Session, alert_id: int, status: str) -> bool:
    # An update already claimed may have rendered the old state: only an unclaimed one counts.
    query = select(Notification.id).where(
        Notification.alert_id == alert_id,
        Notification.kind == "update",
        Notification.status == status,
        Notification.claimed_until.is_(None),
    )
    return session.scalars(query.limit(1)).first() is not None


def due_query(now: datetime, limit: int) -> Select[int]:
    """Due, unclaimed rows whose alert has no earlier row still pending (per-alert order)."""
    earlier = aliased(Notification)
    blocked = exists().where(
        earlier.alert_id == Notification.alert_id,
        earlier.id < Notification.id,
        earlier.status == "pending",
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
