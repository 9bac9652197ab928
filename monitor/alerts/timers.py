"""Time-driven transitions run by ``tick``: reminders, snooze expiry, silence expiry.

Every timer is a column in the DB (``next_reminder_at``, ``snoozed_until``, ``silence.ends_at``),
so a restart neither re-announces open alerts nor forgets a reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from monitor.alerts.outbox import enqueue
from monitor.alerts.policy import Routing
from monitor.alerts.store import Transition, cas, record
from monitor.store import OPEN_STATES, Alert, Notification, Silence, active_silence_end

TICK_ACTOR = "tick"
# Reminder back-off: each reminder doubles the interval to the next, up to this many times
# the alert's ``remind_every`` (4h for a critical: 4h, 8h, 16h, 32h, 32h, ...).
REMINDER_BACKOFF_CAP = 8


def send_due_reminders(*, session: Session, now: datetime, routing: Routing) -> list[Transition]:
    """Ping the thread of every firing alert whose reminder is due (not snoozed or silenced).

    Reminders stay in the thread (no broadcast to the channel) and back off: each one doubles
    the interval to the next, capped. Only an escalation pages the channel again.
    """
    query = select(Alert).where(
        Alert.state == "firing",
        Alert.next_reminder_at <= now,
        or_(Alert.snoozed_until.is_(None), Alert.snoozed_until <= now),
    )
    done = []
    for alert in session.scalars(query).all():
        if active_silence_end(session, alert.model, now) is not None:
            continue
        sent = alert.reminders_sent + 1
        changes = {"next_reminder_at": _next_reminder(alert, now, sent), "reminders_sent": sent}
        if not cas(session, alert, changes):
            continue  # someone acted on it meanwhile; their transition decides
        # No mention: only an escalation re-mentions (monitor.alerts.escalation).
        data = {
            "severity": alert.severity,
            "hours": (now - alert.raised_at).total_seconds() / 3600,
            "summary": alert.summary or alert.check_id,
        }
        enqueue(session, alert, "reply", now=now, event="reminder", data=data, broadcast=False)
        done.append(
            record(
                session,
                alert,
                kind="reminded",
                from_state=alert.state,
                actor=TICK_ACTOR,
                now=now,
                reason="reminder due",
            )
        )
    return done


def end_snoozes(*, session: Session, now: datetime) -> list[Transition]:
    """Lift expired snoozes; a still-firing alert pings its thread again."""
    query = select(Alert).where(Alert.state.in_(OPEN_STATES), Alert.snoozed_until <= now)
    done = []
    for alert in session.scalars(query).all():
        firing = alert.state == "firing"
        changes: dict[str, object] = {"snoozed_until": None, "snoozed_by": None}
        if firing:
            changes["next_reminder_at"] = _next_reminder(alert, now)
        if not cas(session, alert, changes):
            continue
        enqueue(session, alert, "update", now=now)
        if firing:
            _still(session, alert, "snooze_ended", now)
        done.append(
            record(
                session,
                alert,
                kind="snooze_ended",
                from_state=alert.state,
                actor=TICK_ACTOR,
                now=now,
                reason="snooze expired",
            )
        )
    return done


def end_silences(*, session: Session, now: datetime) -> list[Transition]:
    """Handle silences that have ended: announce what is still open, drop what no longer is."""
    query = select(Silence).where(Silence.ends_at <= now, Silence.ended_at.is_(None))
    done: list[Transition] = []
    for silence in session.scalars(query).all():
        silence.ended_at = now
        if active_silence_end(session, silence.model, now) is None:
            done.extend(after_silence(session, silence.model, now))
    session.flush()
    return done


def after_silence(
    session: Session, model: str, now: datetime, *, actor: str = TICK_ACTOR
) -> list[Transition]:
    """``model`` is no longer silenced: post what was held, ping the threads of open alerts."""
    done = []
    query = select(Alert).where(
        Alert.model == model, or_(Alert.state.in_(OPEN_STATES), Alert.slack_ts.is_(None))
    )
    for alert in session.scalars(query).all():
        if alert.slack_ts is None:
            _settle_unposted(session, alert, now)
            continue
        if alert.state != "firing" or alert.snoozed_until is not None:
            continue
        if not cas(session, alert, {"next_reminder_at": _next_reminder(alert, now)}):
            continue
        enqueue(session, alert, "update", now=now)
        _still(session, alert, "silence_ended", now)
        done.append(
            record(
                session,
                alert,
                kind="silence_ended",
                from_state=alert.state,
                actor=actor,
                now=now,
                reason="silence ended",
            )
        )
    return done


def _still(session: Session, alert: Alert, event: str, now: datetime) -> None:
    """Ping the thread: the pause (snooze or silence) ended and the alert is still firing.

    A thread reply, not sent to the channel: only an escalation pages again."""
    data = {"severity": alert.severity, "summary": alert.summary}
    enqueue(session, alert, "reply", now=now, event=event, data=data, broadcast=False)


def _settle_unposted(session: Session, alert: Alert, now: datetime) -> None:
    """An alert raised during the silence: its post (current state) says it all; no backlog.

    The post was deferred to the silence's planned end; a cancelled one ends earlier."""
    if alert.is_open:
        session.execute(
            update(Notification)
            .where(
                Notification.alert_id == alert.id,
                Notification.status == "pending",
                Notification.kind == "post",
                Notification.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    kinds = ["reply", "update"] if alert.is_open else ["post", "reply", "update"]
    session.execute(
        update(Notification)
        .where(
            Notification.alert_id == alert.id,
            Notification.status == "pending",
            Notification.kind.in_(kinds),
        )
        .values(status="dropped", last_error="superseded: raised and settled during a silence")
        .execution_options(synchronize_session=False)
    )


def _next_reminder(alert: Alert, now: datetime, sent: int = 0) -> datetime | None:
    """The next reminder after ``sent`` reminders: the interval doubles each time, capped."""
    if not alert.remind_every_s:
        return None
    factor = min(2 ** min(sent, 16), REMINDER_BACKOFF_CAP)
    return now + timedelta(seconds=alert.remind_every_s * factor)
