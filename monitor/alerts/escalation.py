"""Timers that page again: an unacknowledged critical past ``escalate_after``, and an
acknowledgement past ``ack_timeout`` while the alert still fails.

Both are the only tick-driven messages sent to the channel (``reply_broadcast``) with the
severity's mention; reminders stay in the thread. PagerDuty is the anchor for both: an
escalation policy re-notifies an incident nobody acknowledged, and an acknowledgement
timeout returns an acknowledged incident to triggered. Each timer is a column
(``escalate_at``, ``ack_expires_at``) set when the alert fires or is acknowledged, so a
restart neither forgets nor repeats them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from monitor.alerts.outbox import enqueue
from monitor.alerts.policy import Routing
from monitor.alerts.store import Transition, cas, record
from monitor.store import Alert, active_silence_end

TICK_ACTOR = "tick"


def repage_unacknowledged(*, session: Session, now: datetime, routing: Routing) -> list[Transition]:
    """Page the channel once for each firing critical whose ``escalate_at`` has passed."""
    query = select(Alert).where(
        Alert.state == "firing",
        Alert.escalate_at <= now,
        or_(Alert.snoozed_until.is_(None), Alert.snoozed_until <= now),
    )
    done = []
    for alert in session.scalars(query).all():
        if active_silence_end(session, alert.model, now) is not None:
            continue  # the silence's end re-announces it
        if not cas(session, alert, {"escalate_at": None}):
            continue
        fired = alert.recorded_at or alert.raised_at
        data = _page(alert, routing, hours=(now - fired).total_seconds())
        enqueue(session, alert, "reply", now=now, event="repaged", data=data, broadcast=True)
        done.append(
            record(
                session,
                alert,
                kind="repaged",
                from_state="firing",
                actor=TICK_ACTOR,
                now=now,
                reason="unacknowledged past escalate_after",
            )
        )
    return done


def expire_acknowledgements(
    *, session: Session, now: datetime, routing: Routing
) -> list[Transition]:
    """Acknowledged alerts past ``ack_expires_at`` fire again and page the channel."""
    query = select(Alert).where(Alert.state == "acknowledged", Alert.ack_expires_at <= now)
    done = []
    for alert in session.scalars(query).all():
        if active_silence_end(session, alert.model, now) is not None:
            continue
        acker, acked_at = alert.acked_by, alert.acked_at
        changes: dict[str, Any] = {
            "state": "firing",
            "acked_at": None,
            "acked_by": None,
            "ack_note": None,
            "ack_expires_at": None,
            "reminders_sent": 0,
            "next_reminder_at": (
                now + timedelta(seconds=alert.remind_every_s) if alert.remind_every_s else None
            ),
        }
        if not cas(session, alert, changes):
            continue
        hours = (now - acked_at).total_seconds() if acked_at else 0.0
        data = {**_page(alert, routing, hours=hours), "by": acker}
        enqueue(session, alert, "update", now=now)
        enqueue(session, alert, "reply", now=now, event="ack_expired", data=data, broadcast=True)
        done.append(
            record(
                session,
                alert,
                kind="ack_expired",
                from_state="acknowledged",
                actor=TICK_ACTOR,
                now=now,
                reason=f"acknowledged by {acker}, still failing after ack_timeout",
            )
        )
    return done


def _page(alert: Alert, routing: Routing, *, hours: float) -> dict[str, Any]:
    return {
        "mention": routing.mention_for(alert.severity),
        "severity": alert.severity,
        "summary": alert.summary or alert.check_id,
        "hours": hours / 3600,
    }
