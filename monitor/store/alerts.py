"""State DB tables of the alerting layer: conditions, alerts, their events, the outbox, silences.

An alert is the human workflow around a check; its ``condition`` row is what the scans say.
``alert_event`` is append-only: nothing updates or deletes it. ``notification`` is the outbox
that the dispatcher drains; a row is written in the same transaction as the transition it
reports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from monitor.dialect import partial_index
from monitor.store.base import WHOLE_WINDOW, Base, UTCDateTime, json_type

OPEN_STATES = ("firing", "recovered", "acknowledged")
ALL_STATES = (*OPEN_STATES, "resolved")
SEVERITIES = ("warning", "critical")


class AlertCondition(Base):
    """Debounced condition of one check of one model (and segment), as the scans report it."""

    __tablename__ = "alert_condition"
    __table_args__ = (UniqueConstraint("model", "check_id", "segment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    check_id: Mapped[str] = mapped_column(String(300))
    segment: Mapped[str] = mapped_column(String(300), default=WHOLE_WINDOW)
    state: Mapped[str] = mapped_column(String(16), default="ok")
    breach_streak: Mapped[int] = mapped_column(Integer, default=0)
    ok_streak: Mapped[int] = mapped_column(Integer, default=0)
    # The latest window counted: a re-scan of it (or of an older one) does not count again.
    last_window_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A changed threshold resets the streaks (the old evidence was judged by another rule).
    threshold_key: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float | None]
    threshold: Mapped[float | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    """One occurrence of a problem, open until a person acknowledges or resolves it."""

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(
            "state IN ('firing', 'recovered', 'acknowledged', 'resolved')", name="state_known"
        ),
        partial_index(
            "uq_alert_open_key",
            "model",
            "check_id",
            "segment",
            unique=True,
            where="state <> 'resolved'",
        ),
        Index("ix_alert_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    check_id: Mapped[str] = mapped_column(String(300))
    segment: Mapped[str] = mapped_column(String(300), default=WHOLE_WINDOW)
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    condition: Mapped[str] = mapped_column(String(16))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    value: Mapped[float | None]
    threshold: Mapped[float | None]
    summary: Mapped[str] = mapped_column(Text, default="")
    # The failing segments of an alert that stands for all segments of its check, worst
    # first: [{segment, severity, value, threshold, summary}] (monitor/alerts/segments.py).
    segments: Mapped[list[dict[str, Any]]] = mapped_column(
        json_type(), default=list, server_default="[]"
    )
    runbook: Mapped[str | None] = mapped_column(Text)
    # Data time: the window end of the scan that raised it (the wall clock is ``recorded_at``).
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_breach_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_by: Mapped[str | None] = mapped_column(String(200))
    ack_note: Mapped[str | None] = mapped_column(Text)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolve_reason: Mapped[str | None] = mapped_column(String(64))
    # What the person who resolved it judged it to be (RESOLUTIONS), counted per check in the
    # status report so thresholds can be tuned; ``resolve_reason`` says how it was closed.
    resolution: Mapped[str | None] = mapped_column(String(32))
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Reminder interval for the current severity, copied from the policy when it is set, so
    # an unacknowledge from the CLI or the API can restart reminders without the config.
    remind_every_s: Mapped[int | None] = mapped_column(Integer)
    # Reminders sent since the alert (re)fired or escalated: each one doubles the next
    # interval, up to REMINDER_BACKOFF_CAP times ``remind_every_s``.
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Data time at which it started changing state too often (``flap_threshold`` flips in
    # ``flap_window``): further flips are recorded, not posted, until it has been quiet.
    flapping_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Wall clock at which an unacknowledged critical is paged again (``escalate_after``).
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # ``ack_timeout`` copied from the policy at raise (as ``remind_every_s``), and when the
    # current acknowledgement times out: the alert then fires again and re-notifies.
    ack_timeout_s: Mapped[int | None] = mapped_column(Integer)
    ack_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    slack_channel: Mapped[str | None] = mapped_column(String(100))
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AlertEvent(Base):
    """Append-only history: one row per transition, with who did it and why."""

    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_alert_id", "alert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"))
    # Data time for scan-driven events (the window end that caused them), else the wall clock;
    # ``recorded_at`` is always the wall clock of the write.
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(Text)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    details: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)


class Notification(Base):
    """Outbox row: one notifier call to make (post the parent, edit it, or reply in its thread)."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_due", "status", "next_attempt_at"),
        Index("ix_notification_alert_id", "alert_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"))
    kind: Mapped[str] = mapped_column(String(16))  # post | update | reply
    channel: Mapped[str] = mapped_column(String(100))
    # What happened, as data (a reply's event kind, e.g. "reminder", and its facts; a post's
    # mention): the notifier turns it into its own words when it delivers the row.
    event: Mapped[str] = mapped_column(String(32), default="")
    data: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    broadcast: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|sent|failed|dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A claim is a lease: a worker killed mid-call leaves it to expire, then the row is retried.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The delivery pass holding the claim: it renews only its own claims, so a row whose claim
    # expired and was taken by another pass is never sent by both.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    slack_ts: Mapped[str | None] = mapped_column(String(40))


class Silence(Base):
    """A maintenance window for one model: alerts still open, nothing is posted until it ends."""

    __tablename__ = "silence"
    __table_args__ = (Index("ix_silence_model", "model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    # Who ended it early (``monitor maintenance --cancel``); ``starts_at``/``ends_at`` keep the
    # planned times and ``ended_at`` is then the cancel time.
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    # When the end was handled (open alerts re-announced): by `tick` at or after ``ends_at``,
    # or by the cancel itself, at the cancel time.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def cancelled_at(self) -> datetime | None:
        """When it was cancelled, or None if it was not."""
        return self.ended_at if self.cancelled_by is not None else None

    def in_force(self, now: datetime) -> bool:
        """It holds notifications at ``now`` (the Python twin of :func:`silence_in_force`)."""
        return self.starts_at <= now < self.ends_at and (
            self.ended_at is None or self.ended_at > now
        )


def silence_in_force(now: datetime) -> ColumnElement[bool]:
    """SQL condition: the silence holds notifications at ``now``. It has started, not reached
    its planned end, and not been cancelled before ``now`` (a cancelled window's ``ended_at`` is
    its cancel time; a window ended by `tick` has ``ended_at >= ends_at``)."""
    return and_(
        Silence.starts_at <= now,
        Silence.ends_at > now,
        or_(Silence.ended_at.is_(None), Silence.ended_at > now),
    )


def active_silence_end(session: Session, model: str, now: datetime) -> datetime | None:
    """The latest end of the silences covering ``model`` now, or None if it is not silenced."""
    query = select(Silence.ends_at).where(Silence.model == model, silence_in_force(now))
    ends = list(session.scalars(query))
    return max(ends) if ends else None


class ChannelHold(Base):
    """Slack asked us to wait (429 with Retry-After) before calling for this channel again.

    Kept in the DB, not in the worker, so the next tick, a button click's delivery and the
    other replicas all wait too.
    """

    __tablename__ = "channel_hold"

    channel: Mapped[str] = mapped_column(String(100), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
