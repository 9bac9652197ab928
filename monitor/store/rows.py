"""What the read-only commands and the views take of each row: the columns, by attribute.

A query on the Core tables (:mod:`monitor.store.tables`) returns ``Row`` objects, a query on
the ORM classes returns mapped objects; both give the columns as attributes, and the code that
reports them (``monitor.status``, ``monitor.alerts.queries``) takes either, typed by these
protocols. What a mapped class adds as a method is a function here, so a row has it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

#: what the read queries run on: a Core connection (the read-only commands) or an ORM session
Reader: TypeAlias = "Connection | Session"


class ScanRow(Protocol):
    """A row of ``Scan``'s table."""

    id: int
    model: str
    window_start: datetime
    window_end: datetime
    reference: dict[str, Any]
    rows_reference: int | None
    rows_live: int | None
    rows_labelled: int | None
    model_versions: list[str]
    config_hash: str
    status: str
    error: str | None
    started_at: datetime
    finished_at: datetime
    timings: dict[str, float]
    metrics: dict[str, Any]
    warnings: list[str] | None


class CheckResultRow(Protocol):
    """A row of ``CheckResult``'s table."""

    id: int
    scan_id: int
    check: str
    segment: str
    method: str
    value: float | None
    threshold: float | None
    passed: bool | None
    severity: str | None
    reason: str | None
    details: dict[str, Any]


class ScanAttemptRow(Protocol):
    """A row of ``ScanAttempt``'s table."""

    id: int
    scan_id: int
    model: str
    window_start: datetime
    window_end: datetime
    error: str
    config_hash: str
    started_at: datetime
    finished_at: datetime


class AlertRow(Protocol):
    """A row of ``Alert``'s table."""

    id: int
    model: str
    check_id: str
    segment: str
    state: str
    severity: str
    condition: str
    occurrences: int
    value: float | None
    threshold: float | None
    summary: str
    segments: list[dict[str, Any]]
    runbook: str | None
    raised_at: datetime
    recorded_at: datetime | None
    last_breach_at: datetime | None
    recovered_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    ack_note: str | None
    snoozed_until: datetime | None
    snoozed_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolve_reason: str | None
    resolution: str | None
    next_reminder_at: datetime | None
    remind_every_s: int | None
    reminders_sent: int
    flapping_since: datetime | None
    escalate_at: datetime | None
    ack_timeout_s: int | None
    ack_expires_at: datetime | None
    slack_channel: str | None
    slack_ts: str | None
    version: int


class AlertCopy:
    """An alert's columns as a Core query read them, held by no session or connection: the
    write path changes it as it changes the row (:func:`monitor.alerts.store.cas`), and a
    notifier reads it after the commit. Made by :func:`alert_copy`."""

    def __init__(self, columns: Mapping[Any, Any]) -> None:
        self.__dict__.update(columns)


def alert_copy(columns: Mapping[Any, Any]) -> AlertRow:
    """An :class:`AlertCopy` of ``columns`` (a row's ``_mapping``), typed as the row it holds."""
    return cast("AlertRow", AlertCopy(columns))


class AlertConditionRow(Protocol):
    """A row of ``AlertCondition``'s table."""

    id: int
    model: str
    check_id: str
    segment: str
    state: str
    breach_streak: int
    ok_streak: int
    last_window_end: datetime | None
    threshold_key: str | None
    value: float | None
    threshold: float | None
    updated_at: datetime


class AlertEventRow(Protocol):
    """A row of ``AlertEvent``'s table."""

    id: int
    alert_id: int
    at: datetime
    recorded_at: datetime | None
    kind: str
    from_state: str | None
    to_state: str
    severity: str
    actor: str
    reason: str
    note: str | None
    window_end: datetime | None
    details: dict[str, Any]


class SilenceRow(Protocol):
    """A row of ``Silence``'s table."""

    id: int
    model: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    reason: str
    cancelled_by: str | None
    ended_at: datetime | None


class RetrainingRow(Protocol):
    """A row of ``Retraining``'s table."""

    id: int
    model: str
    version: str
    retrained_at: datetime
    recorded_at: datetime
    source: str
    recorded_by: str | None
    note: str | None


class PerformanceEstimateRow(Protocol):
    """A row of ``PerformanceEstimate``'s table."""

    id: int
    model: str
    metric: str
    segment: str
    window_start: datetime
    window_end: datetime
    estimated: float | None
    lower: float | None
    upper: float | None
    sampling_error: float | None
    rows: int | None
    how: str | None
    realised: float | None
    labelled: int | None
    realised_at: datetime | None


def cancelled_at(window: SilenceRow) -> datetime | None:
    """When a maintenance window was cancelled, or None if it was not."""
    return window.ended_at if window.cancelled_by is not None else None


def holds_at(window: SilenceRow, now: datetime) -> bool:
    """The window holds notifications at ``now`` (the Python twin of
    :func:`monitor.store.tables.silence_in_force`)."""
    return window.starts_at <= now < window.ends_at and (
        window.ended_at is None or window.ended_at > now
    )


def result_of(
    results: Sequence[CheckResultRow], check: str, segment: str = ""
) -> CheckResultRow | None:
    """The result of ``check`` (and ``segment``) among a scan's ``results``, if any."""
    return next((r for r in results if r.check == check and r.segment == segment), None)
