"""State DB tables of the alerting layer: conditions, alerts, their events, the outbox, silences.

An alert is the human workflow around a check; its ``condition`` row is what the scans say.
``alert_event`` is append-only: nothing updates or deletes it. ``notification`` is the outbox
that the dispatcher drains; a row is written in the same transaction as the transition it
reports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped

from monitor.store import tables
from monitor.store.orm import Base
from monitor.store.rows import cancelled_at
from monitor.store.tables import (
    ALL_STATES,
    OPEN_STATES,
    SEVERITIES,
    active_silence_end,
    silence_in_force,
)


class AlertCondition(Base):
    """Debounced condition of one check of one model (and segment), as the scans report it."""

    __table__ = tables.alert_condition

    id: Mapped[int]
    model: Mapped[str]
    check_id: Mapped[str]
    segment: Mapped[str]
    state: Mapped[str]
    breach_streak: Mapped[int]
    ok_streak: Mapped[int]
    # The latest window counted: a re-scan of it (or of an older one) does not count again.
    last_window_end: Mapped[datetime | None]
    # A changed threshold resets the streaks (the old evidence was judged by another rule).
    threshold_key: Mapped[str | None]
    value: Mapped[float | None]
    threshold: Mapped[float | None]
    updated_at: Mapped[datetime]


class Alert(Base):
    """One occurrence of a problem, open until a person acknowledges or resolves it."""

    __table__ = tables.alert

    id: Mapped[int]
    model: Mapped[str]
    check_id: Mapped[str]
    segment: Mapped[str]
    state: Mapped[str]
    severity: Mapped[str]
    condition: Mapped[str]
    occurrences: Mapped[int]
    value: Mapped[float | None]
    threshold: Mapped[float | None]
    summary: Mapped[str]
    # The failing segments of an alert that stands for all segments of its check, worst
    # first: [{segment, severity, value, threshold, summary}] (monitor/alerts/segments.py).
    segments: Mapped[list[dict[str, Any]]]
    runbook: Mapped[str | None]
    # Data time: the window end of the scan that raised it (the wall clock is ``recorded_at``).
    raised_at: Mapped[datetime]
    recorded_at: Mapped[datetime | None]
    last_breach_at: Mapped[datetime | None]
    recovered_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None]
    ack_note: Mapped[str | None]
    snoozed_until: Mapped[datetime | None]
    snoozed_by: Mapped[str | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None]
    resolve_reason: Mapped[str | None]
    # What the person who resolved it judged it to be (RESOLUTIONS), counted per check in the
    # status report so thresholds can be tuned; ``resolve_reason`` says how it was closed.
    resolution: Mapped[str | None]
    next_reminder_at: Mapped[datetime | None]
    # Reminder interval for the current severity, copied from the policy when it is set, so
    # an unacknowledge from the CLI or the API can restart reminders without the config.
    remind_every_s: Mapped[int | None]
    # Reminders sent since the alert (re)fired or escalated: each one doubles the next
    # interval, up to REMINDER_BACKOFF_CAP times ``remind_every_s``.
    reminders_sent: Mapped[int]
    # Data time at which it started changing state too often (``flap_threshold`` flips in
    # ``flap_window``): further flips are recorded, not posted, until it has been quiet.
    flapping_since: Mapped[datetime | None]
    # Wall clock at which an unacknowledged critical is paged again (``escalate_after``).
    escalate_at: Mapped[datetime | None]
    # ``ack_timeout`` copied from the policy at raise (as ``remind_every_s``), and when the
    # current acknowledgement times out: the alert then fires again and re-notifies.
    ack_timeout_s: Mapped[int | None]
    ack_expires_at: Mapped[datetime | None]
    slack_channel: Mapped[str | None]
    slack_ts: Mapped[str | None]
    version: Mapped[int]

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AlertEvent(Base):
    """Append-only history: one row per transition, with who did it and why."""

    __table__ = tables.alert_event

    id: Mapped[int]
    alert_id: Mapped[int]
    # Data time for scan-driven events (the window end that caused them), else the wall clock;
    # ``recorded_at`` is always the wall clock of the write.
    at: Mapped[datetime]
    recorded_at: Mapped[datetime | None]
    kind: Mapped[str]
    from_state: Mapped[str | None]
    to_state: Mapped[str]
    severity: Mapped[str]
    actor: Mapped[str]
    reason: Mapped[str]
    note: Mapped[str | None]
    window_end: Mapped[datetime | None]
    details: Mapped[dict[str, Any]]


class Notification(Base):
    """Outbox row: one notifier call to make (post the parent, edit it, or reply in its thread)."""

    __table__ = tables.notification

    id: Mapped[int]
    alert_id: Mapped[int]
    kind: Mapped[str]
    channel: Mapped[str]
    # What happened, as data (a reply's event kind, e.g. "reminder", and its facts; a post's
    # mention): the notifier turns it into its own words when it delivers the row.
    event: Mapped[str]
    data: Mapped[dict[str, Any]]
    broadcast: Mapped[bool]
    status: Mapped[str]
    attempts: Mapped[int]
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    # A claim is a lease: a worker killed mid-call leaves it to expire, then the row is retried.
    claimed_until: Mapped[datetime | None]
    # The delivery pass holding the claim: it renews only its own claims, so a row whose claim
    # expired and was taken by another pass is never sent by both.
    claimed_by: Mapped[str | None]
    attempt_started_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    sent_at: Mapped[datetime | None]
    slack_ts: Mapped[str | None]


class Silence(Base):
    """A maintenance window for one model: alerts still open, nothing is posted until it ends."""

    __table__ = tables.silence

    id: Mapped[int]
    model: Mapped[str]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str]
    reason: Mapped[str]
    # Who ended it early (``monitor maintenance --cancel``); ``starts_at``/``ends_at`` keep the
    # planned times and ``ended_at`` is then the cancel time.
    cancelled_by: Mapped[str | None]
    # When the end was handled (open alerts re-announced): by `tick` at or after ``ends_at``,
    # or by the cancel itself, at the cancel time.
    ended_at: Mapped[datetime | None]

    @property
    def cancelled_at(self) -> datetime | None:
        """When it was cancelled, or None if it was not."""
        return cancelled_at(self)


class ChannelHold(Base):
    """Slack asked us to wait (429 with Retry-After) before calling for this channel again.

    Kept in the DB, not in the worker, so the next tick, a button click's delivery and the
    other replicas all wait too.
    """

    __table__ = tables.channel_hold

    channel: Mapped[str]
    until: Mapped[datetime]
    reason: Mapped[str]


__all__ = [
    "ALL_STATES",
    "OPEN_STATES",
    "SEVERITIES",
    "Alert",
    "AlertCondition",
    "AlertEvent",
    "ChannelHold",
    "Notification",
    "Silence",
    "active_silence_end",
    "silence_in_force",
]
