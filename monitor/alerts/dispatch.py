"""Delivering claimed outbox rows through a notifier, one row at a time, in three steps.

1. *Prepare*, a short transaction: renew this pass's claim on the row for ``CLAIM_LEASE`` from
   now (a row whose claim expired and was taken by another pass is left to that pass), decide
   whether it goes now (silence, snooze, a Slack rate-limit hold, a parent already posted) and
   count the attempt.
2. *Call* the notifier with a detached copy of the alert. No database connection is held
   meanwhile: a slow Slack must not drain the pool the API, acknowledgements and leases use.
3. *Record*, a short transaction: sent, or when to try again.

A row is marked sent only after the notifier returned: a crash between Slack accepting a post
and our record leaves the row claimed; when the claim expires it is posted again. The outcome
is a possible duplicate parent message, never a lost alert (the alert then points at the
newer message, which later edits keep current). Claims are renewed per row right before the
call, so that only happens to a process stopped for longer than the lease, never to a batch
that is merely slow.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from monitor.alerts import outbox
from monitor.alerts.holds import hold, hold_until
from monitor.alerts.notify import DeliveryError, MessageRef, Notifier, ThreadEvent
from monitor.alerts.policy import is_external
from monitor.store import Alert, Notification, active_silence_end

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)

SessionSource = Callable[[], Session] | Session
Clock = Callable[[], datetime]


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    deferred: int = 0
    # Post rows not sent because the alert's parent message already exists.
    skipped: int = 0
    # Channels that answered 429 in this pass: their other rows wait, other channels flow.
    rate_limited: dict[str, datetime] = field(default_factory=dict)

    @property
    def settled(self) -> int:
        return self.sent + self.dropped + self.failed + self.skipped


@dataclass(frozen=True)
class DeliveryPass:
    """One delivery pass: its claim token, the time it stamps rows with, and its lease clock.

    ``lease_clock`` always advances with the real time the pass has taken, even when
    ``clock`` is a fixed instant (tests, the demo's simulated time): a claim is a lease on
    real time.
    """

    claimer: str
    clock: Clock
    lease_clock: Clock

    @classmethod
    def start(cls, now: datetime, clock: Clock | None = None) -> DeliveryPass:
        started = time.monotonic()

        def lease_clock() -> datetime:
            return now + timedelta(seconds=time.monotonic() - started)

        return cls(uuid.uuid4().hex, clock or (lambda: now), clock or lease_clock)


@dataclass(frozen=True)
class _Job:
    """What one notifier call needs, read in the prepare step."""

    row_id: int
    kind: str
    channel: str  # where the call goes: the post's channel, else the alert's message
    event: ThreadEvent
    broadcast: bool
    alert: Alert  # a copy bound to no session
    parent: MessageRef | None  # the destination's first message about the alert, once posted


def deliver_one(
    *,
    sessions: SessionSource,
    row_id: int,
    notifier: Notifier,
    run: DeliveryPass,
    report: DeliveryReport,
) -> None:
    """Deliver (or defer, drop, fail) one row claimed by ``run``; commits its own steps."""
    job = _prepare(sessions, row_id, run, report)
    if job is None:
        return
    try:
        ref = _call(notifier, job)
    except DeliveryError as exc:
        _record(sessions, job, run, report, error=exc)
        return
    _record(sessions, job, run, report, ref=ref)


def unit(sessions: SessionSource) -> AbstractContextManager[Session]:
    """A session for one step: a new one from a factory, or the caller's (committed per step)."""
    if isinstance(sessions, Session):
        return nullcontext(sessions)
    return sessions()


def _prepare(
    sessions: SessionSource, row_id: int, run: DeliveryPass, report: DeliveryReport
) -> _Job | None:
    with unit(sessions) as session:
        if not outbox.renew_claim(session, row_id, by=run.claimer, now=run.lease_clock()):
            session.rollback()
            return None  # settled meanwhile, or its expired claim went to another pass
        row = session.get_one(Notification, row_id, populate_existing=True)
        alert = session.get_one(Alert, row.alert_id, populate_existing=True)
        now = run.clock()
        if _hold_reason(session, row, alert, now, report) is not None:
            session.commit()
            return None
        row.attempts += 1
        row.attempt_started_at = now
        event = ThreadEvent(row.event, dict(row.data or {}))
        channel = _target_channel(row, alert)
        parent = _parent(session, row, alert)
        job = _Job(row.id, row.kind, channel, event, row.broadcast, _copy(alert), parent)
        session.commit()
    return job


def _record(
    sessions: SessionSource,
    job: _Job,
    run: DeliveryPass,
    report: DeliveryReport,
    *,
    ref: MessageRef | None = None,
    error: DeliveryError | None = None,
) -> None:
    with unit(sessions) as session:
        row = session.get_one(Notification, job.row_id, populate_existing=True)
        now = run.clock()
        if error is not None:
            _on_error(session, row, job.channel, error, now, report)
        else:
            _on_sent(session, row, ref, now)
            report.sent += 1
        session.commit()


def _copy(alert: Alert) -> Alert:
    """A transient copy of ``alert``'s columns: the notifier may read it after our commit."""
    columns = inspect(Alert).column_attrs
    return Alert(**{attr.key: getattr(alert, attr.key) for attr in columns})


def _hold_reason(
    session: Session, row: Notification, alert: Alert, now: datetime, report: DeliveryReport
) -> str | None:
    """Why this row is not sent now (deferred, dropped, skipped), or None to send it."""
    silence_end = active_silence_end(session, alert.model, now)
    if silence_end is not None and row.kind == "post":
        return _defer(row, silence_end, "silenced", report)
    if row.kind == "reply" and silence_end is not None:
        return _drop(row, "model silenced", report)
    if row.kind == "reply" and alert.snoozed_until is not None and alert.snoozed_until > now:
        return _drop(row, "alert snoozed", report)
    parent = _parent(session, row, alert)
    if row.kind != "post" and parent is None:
        return _drop(row, "the parent message was never posted", report)
    if row.kind == "post" and parent is not None:
        return _already_posted(row, parent, now, report)
    channel = _target_channel(row, alert)
    until = report.rate_limited.get(channel) or hold_until(session, channel, now=now)
    if until is not None and until > now:
        report.rate_limited[channel] = until
        return _defer(row, until, "channel rate limited", report)
    return None


def _parent(session: Session, row: Notification, alert: Alert) -> MessageRef | None:
    """Where the alert's first message to this row's destination landed, if it did: the
    alert's thread for Slack (and the console), the sent post row for other destinations."""
    if not is_external(row.channel):
        if alert.slack_channel is None or alert.slack_ts is None:
            return None
        return MessageRef(alert.slack_channel, alert.slack_ts)
    query = select(Notification.slack_ts).where(
        Notification.alert_id == alert.id,
        Notification.channel == row.channel,
        Notification.kind == "post",
        Notification.status == "sent",
        Notification.slack_ts.is_not(None),
    )
    ts = session.scalars(query.order_by(Notification.id).limit(1)).first()
    return MessageRef(row.channel, ts) if ts is not None else None


def _already_posted(
    row: Notification, parent: MessageRef, now: datetime, report: DeliveryReport
) -> str:
    # Another pass posted this alert's parent (its claim on this row had expired): one parent
    # per alert and destination, so this row is done; later edits keep that message current.
    row.status, row.sent_at, row.slack_ts = "sent", now, parent.ts
    row.claimed_until = row.claimed_by = None
    row.last_error = f"not posted again: the alert's message {parent.ts} exists"
    report.skipped += 1
    return "parent already posted"


def _defer(row: Notification, until: datetime, why: str, report: DeliveryReport) -> str:
    row.next_attempt_at, row.claimed_until, row.claimed_by = until, None, None
    report.deferred += 1
    return why


def _drop(row: Notification, why: str, report: DeliveryReport) -> str:
    row.status, row.last_error = "dropped", why
    row.claimed_until = row.claimed_by = None
    report.dropped += 1
    return why


def _target_channel(row: Notification, alert: Alert) -> str:
    if row.kind == "post" or is_external(row.channel):
        return row.channel
    return alert.slack_channel or row.channel


def _call(notifier: Notifier, job: _Job) -> MessageRef | None:
    alert = job.alert
    if job.kind == "post":
        mention = job.event.data.get("mention")
        return notifier.post(alert, channel=job.channel, mention=str(mention) if mention else None)
    assert job.parent is not None
    if job.kind == "update":
        notifier.update(alert, channel=job.parent.channel, ts=job.parent.ts)
        return None
    return notifier.reply(
        alert,
        channel=job.parent.channel,
        thread_ts=job.parent.ts,
        event=job.event,
        broadcast=job.broadcast,
    )


def _on_sent(session: Session, row: Notification, ref: MessageRef | None, now: datetime) -> None:
    row.status, row.sent_at, row.last_error = "sent", now, None
    row.claimed_until = row.claimed_by = None
    if ref is not None:
        row.slack_ts = ref.ts
    if row.kind == "post" and ref is not None and not is_external(row.channel):
        # Not a workflow change: no version bump, so it never conflicts with an acknowledgement.
        session.execute(
            update(Alert)
            .where(Alert.id == row.alert_id)
            .values(slack_channel=ref.channel, slack_ts=ref.ts)
            .execution_options(synchronize_session=False)
        )


def _on_error(
    session: Session,
    row: Notification,
    channel: str,
    exc: DeliveryError,
    now: datetime,
    report: DeliveryReport,
) -> None:
    row.last_error = str(exc)[:2000]
    row.claimed_until = row.claimed_by = None
    if exc.permanent:
        row.status = "failed"
        report.failed += 1
        return
    if exc.retry_after is not None:
        row.next_attempt_at = now + timedelta(seconds=exc.retry_after)
        report.rate_limited[channel] = row.next_attempt_at
        hold(session, channel, until=row.next_attempt_at, reason=row.last_error)
    else:
        row.next_attempt_at = now + backoff(row.attempts)
    report.retried += 1


def backoff(attempts: int) -> timedelta:
    """Exponential back-off after ``attempts`` failed tries: 30 s, 1 min, 2 min, ... 1 h."""
    delay: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return delay
