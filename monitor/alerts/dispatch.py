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
from typing import TYPE_CHECKING, Any, TypeAlias, overload

from sqlalchemy import Row, select, update

from monitor.alerts import outbox
from monitor.alerts.holds import hold, hold_until
from monitor.alerts.notify import DeliveryError, MessageRef, Notifier, ThreadEvent
from monitor.alerts.policy import is_external
from monitor.store import active_silence_end, tables
from monitor.store.rows import alert_copy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.store.rows import AlertRow, Reader

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# Rows of one alert go one per round (in order); a few rounds deliver a whole burst.
_MAX_ROUNDS = 20

#: where each step gets its session: a factory (a new session per step), or one session
#: committed per step
SessionSource: TypeAlias = "Callable[[], Session] | Session"
#: the same for a delivery, whose statements are Core: it also runs on one Core connection
#: (`monitor ack`, which then needs no ORM)
Source: TypeAlias = "Callable[[], Reader] | Reader"
#: the statements are Core, so they run on either
OUTBOX = tables.notification
ALERT = tables.alert
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
    alert: AlertRow  # a copy bound to no session or connection
    parent: MessageRef | None  # the destination's first message about the alert, once posted


def deliver_one(
    *,
    sessions: Source,
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


def deliver_due(
    sessions: Source,
    *,
    now: datetime,
    notifier: Notifier,
    report: DeliveryReport | None = None,
    batch: int = 50,
    clock: Clock | None = None,
) -> DeliveryReport:
    """Claim and deliver due outbox rows until none is left (or a few rounds have run)."""
    report = report or DeliveryReport()
    run = DeliveryPass.start(now, clock)
    for _ in range(_MAX_ROUNDS):
        settled_before = report.settled
        with unit(sessions) as session:
            claimed = outbox.claim_due(session, now=run.lease_clock(), limit=batch, by=run.claimer)
            session.commit()
        for row_id in claimed:
            deliver_one(sessions=sessions, row_id=row_id, notifier=notifier, run=run, report=report)
        # Stop when a round only deferred rows: what is left waits for a later tick.
        if not claimed or report.settled == settled_before:
            break
    return report


@overload
def unit(sessions: SessionSource) -> AbstractContextManager[Session]: ...


@overload
def unit(sessions: Source) -> AbstractContextManager[Reader]: ...


def unit(sessions: Source) -> AbstractContextManager[Reader]:
    """A session for one step: a new one from a factory, or the caller's (committed per step)."""
    if callable(sessions):
        step: AbstractContextManager[Reader] = sessions()
        return step
    return nullcontext(sessions)


def _prepare(
    sessions: Source, row_id: int, run: DeliveryPass, report: DeliveryReport
) -> _Job | None:
    with unit(sessions) as session:
        if not outbox.renew_claim(session, row_id, by=run.claimer, now=run.lease_clock()):
            session.rollback()
            return None  # settled meanwhile, or its expired claim went to another pass
        row = _outbox_row(session, row_id)
        found = session.execute(select(ALERT).where(ALERT.c.id == row.alert_id)).one()
        alert = alert_copy(found._mapping)
        now = run.clock()
        changes: dict[str, Any] = {}
        if _hold_reason(session, row, alert, now, report, changes) is not None:
            _change(session, row_id, changes)
            session.commit()
            return None
        _change(session, row_id, {"attempts": row.attempts + 1, "attempt_started_at": now})
        event = ThreadEvent(row.event, dict(row.data or {}))
        channel = _target_channel(row, alert)
        parent = _parent(session, row, alert)
        job = _Job(row.id, row.kind, channel, event, row.broadcast, alert, parent)
        session.commit()
    return job


def _record(
    sessions: Source,
    job: _Job,
    run: DeliveryPass,
    report: DeliveryReport,
    *,
    ref: MessageRef | None = None,
    error: DeliveryError | None = None,
) -> None:
    with unit(sessions) as session:
        row = _outbox_row(session, job.row_id)
        now = run.clock()
        if error is not None:
            changes = _on_error(session, row, job.channel, error, now, report)
        else:
            changes = _on_sent(session, row, ref, now)
            report.sent += 1
        _change(session, row.id, changes)
        session.commit()


def _outbox_row(session: Reader, row_id: int) -> Row[Any]:
    return session.execute(select(OUTBOX).where(OUTBOX.c.id == row_id)).one()


def _change(session: Reader, row_id: int, changes: dict[str, Any]) -> None:
    if changes:
        session.execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(**changes))


def _hold_reason(
    session: Reader,
    row: Row[Any],
    alert: AlertRow,
    now: datetime,
    report: DeliveryReport,
    changes: dict[str, Any],
) -> str | None:
    """Why this row is not sent now (deferred, dropped, skipped), or None to send it; what
    that changes in the row goes into ``changes``."""
    silence_end = active_silence_end(session, alert.model, now)
    if silence_end is not None and row.kind == "post":
        return _defer(changes, silence_end, "silenced", report)
    if row.kind == "reply" and silence_end is not None:
        return _drop(changes, "model silenced", report)
    if row.kind == "reply" and alert.snoozed_until is not None and alert.snoozed_until > now:
        return _drop(changes, "alert snoozed", report)
    parent = _parent(session, row, alert)
    if row.kind != "post" and parent is None:
        return _drop(changes, "the parent message was never posted", report)
    if row.kind == "post" and parent is not None:
        return _already_posted(changes, parent, now, report)
    channel = _target_channel(row, alert)
    until = report.rate_limited.get(channel) or hold_until(session, channel, now=now)
    if until is not None and until > now:
        report.rate_limited[channel] = until
        return _defer(changes, until, "channel rate limited", report)
    return None


def _parent(session: Reader, row: Row[Any], alert: AlertRow) -> MessageRef | None:
    """Where the alert's first message to this row's destination landed, if it did: the
    alert's thread for Slack (and the console), the sent post row for other destinations."""
    if not is_external(row.channel):
        if alert.slack_channel is None or alert.slack_ts is None:
            return None
        return MessageRef(alert.slack_channel, alert.slack_ts)
    posts = OUTBOX.c
    query = select(posts.slack_ts).where(
        posts.alert_id == alert.id,
        posts.channel == row.channel,
        posts.kind == "post",
        posts.status == "sent",
        posts.slack_ts.is_not(None),
    )
    ts = session.scalars(query.order_by(posts.id).limit(1)).first()
    return MessageRef(row.channel, ts) if ts is not None else None


def _already_posted(
    changes: dict[str, Any], parent: MessageRef, now: datetime, report: DeliveryReport
) -> str:
    # Another pass posted this alert's parent (its claim on this row had expired): one parent
    # per alert and destination, so this row is done; later edits keep that message current.
    changes.update(status="sent", sent_at=now, slack_ts=parent.ts, **_UNCLAIMED)
    changes["last_error"] = f"not posted again: the alert's message {parent.ts} exists"
    report.skipped += 1
    return "parent already posted"


def _defer(changes: dict[str, Any], until: datetime, why: str, report: DeliveryReport) -> str:
    changes.update(next_attempt_at=until, **_UNCLAIMED)
    report.deferred += 1
    return why


def _drop(changes: dict[str, Any], why: str, report: DeliveryReport) -> str:
    changes.update(status="dropped", last_error=why, **_UNCLAIMED)
    report.dropped += 1
    return why


_UNCLAIMED: dict[str, Any] = {"claimed_until": None, "claimed_by": None}


def _target_channel(row: Row[Any], alert: AlertRow) -> str:
    channel: str = row.channel
    if row.kind == "post" or is_external(channel):
        return channel
    return alert.slack_channel or channel


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


def _on_sent(
    session: Reader, row: Row[Any], ref: MessageRef | None, now: datetime
) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": "sent", "sent_at": now, "last_error": None}
    changes.update(_UNCLAIMED)
    if ref is not None:
        changes["slack_ts"] = ref.ts
    if row.kind == "post" and ref is not None and not is_external(row.channel):
        # Not a workflow change: no version bump, so it never conflicts with an acknowledgement.
        session.execute(
            update(ALERT)
            .where(ALERT.c.id == row.alert_id)
            .values(slack_channel=ref.channel, slack_ts=ref.ts)
        )
    return changes


def _on_error(
    session: Reader,
    row: Row[Any],
    channel: str,
    exc: DeliveryError,
    now: datetime,
    report: DeliveryReport,
) -> dict[str, Any]:
    error = str(exc)[:2000]
    changes: dict[str, Any] = {"last_error": error, **_UNCLAIMED}
    if exc.permanent:
        changes["status"] = "failed"
        report.failed += 1
        return changes
    if exc.retry_after is not None:
        until = now + timedelta(seconds=exc.retry_after)
        report.rate_limited[channel] = until
        hold(session, channel, until=until, reason=error)
    else:
        until = now + backoff(row.attempts)
    changes["next_attempt_at"] = until
    report.retried += 1
    return changes


def backoff(attempts: int) -> timedelta:
    """Exponential back-off after ``attempts`` failed tries: 30 s, 1 min, 2 min, ... 1 h."""
    delay: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return delay
