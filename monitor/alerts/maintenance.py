"""Maintenance windows: plan, list and cancel the silences of a model.

A maintenance window is a :class:`~monitor.store.Silence` row: while it is in force the
model's scans still run and store, and its alerts still move, but nothing is posted
(:mod:`monitor.alerts.dispatch` defers posts and drops thread replies). When it ends,
``tick`` (:func:`monitor.alerts.timers.end_silences`), or its cancel, queues one message per
alert that is still open: the parent, with its current state, for one raised during the
window, or one "silence ended" reply for one posted before; an alert that opened and closed
inside it is never posted. A cancelled window keeps its planned times; ``ended_at`` is
then the cancel time. Keyword-only service functions taking the session; they never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts.errors import InvalidActionError, MaintenanceNotFoundError
from monitor.alerts.store import MAX_ALERT_ID
from monitor.alerts.timers import after_silence
from monitor.store import Silence, active_silence_end, silence_in_force
from monitor.windows import isoformat_z


def plan_maintenance(
    *,
    session: Session,
    model: str,
    starts_at: datetime,
    ends_at: datetime,
    by: str,
    reason: str,
    now: datetime,
) -> Silence:
    """A maintenance window of ``model`` from ``starts_at`` to ``ends_at`` (wall clock)."""
    if not by.strip():
        raise InvalidActionError(f"model {model!r}: the actor (--by) must not be empty")
    if ends_at <= starts_at:
        raise InvalidActionError(
            f"model {model!r}: a maintenance window must end after it starts "
            f"({isoformat_z(starts_at)} .. {isoformat_z(ends_at)})"
        )
    if ends_at <= now:
        raise InvalidActionError(
            f"model {model!r}: the maintenance window ends in the past ({isoformat_z(ends_at)})"
        )
    window = Silence(
        model=model, starts_at=starts_at, ends_at=ends_at, created_by=by, reason=reason
    )
    session.add(window)
    session.flush()
    return window


def cancel_maintenance(*, session: Session, window_id: int, by: str, now: datetime) -> Silence:
    """End a window now (one not started yet never starts) and queue its summary: the held
    posts and one reply per open alert, sent by the next delivery."""
    # Ids are 32-bit INTEGER keys: a larger one is "not found", never a database error.
    window = session.get(Silence, window_id) if 1 <= window_id <= MAX_ALERT_ID else None
    if window is None:
        raise MaintenanceNotFoundError(window_id)
    if window.ends_at <= now or window.ended_at is not None:
        raise InvalidActionError(f"maintenance window {window_id} has already ended")
    # The planned from/to stay as planned; ``ended_at`` records the cancel time, and the end
    # is handled here (as `tick` does for a window that runs its course).
    window.cancelled_by, window.ended_at = by, now
    session.flush()
    held = window.starts_at <= now  # one not started yet never held anything
    if held and active_silence_end(session, window.model, now) is None:
        after_silence(session, window.model, now, actor=by)
    session.flush()
    return window


def list_maintenance(
    *, session: Session, now: datetime, model: str | None = None, past: bool = False
) -> list[Silence]:
    """Windows in force or planned (and ended ones with ``past``), soonest first."""
    query = select(Silence).order_by(Silence.starts_at, Silence.id)
    if model is not None:
        query = query.where(Silence.model == model)
    if not past:
        query = query.where(Silence.ends_at > now, Silence.ended_at.is_(None))
    return list(session.scalars(query))


def active_maintenance(*, session: Session, model: str, now: datetime) -> Silence | None:
    """The window of ``model`` in force at ``now`` (the one ending last), if any."""
    query = (
        select(Silence)
        .where(Silence.model == model, silence_in_force(now))
        .order_by(Silence.ends_at.desc())
        .limit(1)
    )
    return session.scalars(query).first()
