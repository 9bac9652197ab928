"""Delivering claimed outbox rows through a notifier, one row per transaction.

A row is marked sent only after the notifier returned: a crash between Slack accepting a post
and our commit leaves the row claimed; when the claim expires it is posted again. The outcome
is a possible duplicate parent message, never a lost alert (the alert then points at the
newer message, which later edits keep current).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.alerts.models import Alert, Notification, Silence
from monitor.alerts.notify import DeliveryError, MessageRef, Notifier

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    deferred: int = 0
    # Channels that answered 429 in this pass: their other rows wait, other channels flow.
    rate_limited: dict[str, datetime] = field(default_factory=dict)


def deliver_one(
    *, session: Session, row_id: int, notifier: Notifier, now: datetime, report: DeliveryReport
) -> None:
    """Deliver (or defer, drop, fail) one claimed row; the caller commits."""
    row = session.get(Notification, row_id)
    if row is None or row.status != "pending":
        return
    alert = session.get(Alert, row.alert_id)
    assert alert is not None  # foreign key
    reason = _hold_reason(session, row, alert, now, report)
    if reason is not None:
        return
    row.attempts += 1
    row.attempt_started_at = now
    try:
        ref = _call(notifier, row, alert)
    except DeliveryError as exc:
        _on_error(row, _target_channel(row, alert), exc, now, report)
        return
    _on_sent(session, row, alert, ref, now)
    report.sent += 1


def _hold_reason(
    session: Session, row: Notification, alert: Alert, now: datetime, report: DeliveryReport
) -> str | None:
    """Why this row is not sent now (deferred or dropped), or None to send it."""
    silence_end = active_silence_end(session, alert.model, now)
    if silence_end is not None and row.kind == "post":
        return _defer(row, silence_end, "silenced", report)
    if row.kind == "reply" and silence_end is not None:
        return _drop(row, "model silenced", report)
    if row.kind == "reply" and alert.snoozed_until is not None and alert.snoozed_until > now:
        return _drop(row, "alert snoozed", report)
    if row.kind != "post" and alert.slack_ts is None:
        return _drop(row, "the parent message was never posted", report)
    channel = _target_channel(row, alert)
    if channel in report.rate_limited:
        return _defer(row, report.rate_limited[channel], "channel rate limited", report)
    return None


def _defer(row: Notification, until: datetime, why: str, report: DeliveryReport) -> str:
    row.next_attempt_at, row.claimed_until = until, None
    report.deferred += 1
    return why


def _drop(row: Notification, why: str, report: DeliveryReport) -> str:
    row.status, row.last_error, row.claimed_until = "dropped", why, None
    report.dropped += 1
    return why


def _target_channel(row: Notification, alert: Alert) -> str:
    return row.channel if row.kind == "post" else (alert.slack_channel or row.channel)


def _call(notifier: Notifier, row: Notification, alert: Alert) -> MessageRef | None:
    if row.kind == "post":
        return notifier.post(alert, channel=row.channel, mention=row.text or None)
    assert alert.slack_channel is not None and alert.slack_ts is not None
    if row.kind == "update":
        notifier.update(alert, channel=alert.slack_channel, ts=alert.slack_ts)
        return None
    return notifier.reply(
        alert,
        channel=alert.slack_channel,
        thread_ts=alert.slack_ts,
        text=row.text,
        broadcast=row.broadcast,
    )


def _on_sent(
    session: Session, row: Notification, alert: Alert, ref: MessageRef | None, now: datetime
) -> None:
    row.status, row.sent_at, row.claimed_until, row.last_error = "sent", now, None, None
    if ref is not None:
        row.slack_ts = ref.ts
    if row.kind == "post" and ref is not None:
        # Not a workflow change: no version bump, so it never conflicts with an acknowledgement.
        session.execute(
            update(Alert)
            .where(Alert.id == alert.id)
            .values(slack_channel=ref.channel, slack_ts=ref.ts)
            .execution_options(synchronize_session=False)
        )


def _on_error(
    row: Notification, channel: str, exc: DeliveryError, now: datetime, report: DeliveryReport
) -> None:
    row.last_error, row.claimed_until = str(exc)[:2000], None
    if exc.permanent:
        row.status = "failed"
        report.failed += 1
        return
    if exc.retry_after is not None:
        row.next_attempt_at = now + timedelta(seconds=exc.retry_after)
        report.rate_limited[channel] = row.next_attempt_at
    else:
        row.next_attempt_at = now + backoff(row.attempts)
    report.retried += 1


def backoff(attempts: int) -> timedelta:
    """Exponential back-off after ``attempts`` failed tries: 30 s, 1 min, 2 min, ... 1 h."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))


def active_silence_end(session: Session, model: str, now: datetime) -> datetime | None:
    """The latest end of the silences covering ``model`` now, or None if it is not silenced."""
    query = select(Silence.ends_at).where(
        Silence.model == model, Silence.starts_at <= now, Silence.ends_at > now
    )
    ends = list(session.scalars(query))
    return max(ends) if ends else None
