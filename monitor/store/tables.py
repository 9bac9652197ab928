"""Every state DB table, as SQLAlchemy Core ``Table`` objects on one :data:`metadata`.

The schema is declared here, without the ORM: the read-only commands (``monitor status``,
``monitor alerts``) query these tables through a Core connection and never import
``sqlalchemy.orm`` (some 45 ms of their start-up, and the mapped classes another 60). The ORM
classes of ``monitor.store`` (``Alert``, ``Scan``, ...) are mapped onto these same tables, so
Alembic, ``create_all`` and both query styles see one schema. What each table and column means
is documented on its mapped class.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    or_,
    select,
)

from monitor.dialect import partial_index
from monitor.store.base import NAMING_CONVENTION, WHOLE_WINDOW, UTCDateTime, json_type

if TYPE_CHECKING:
    from monitor.store.rows import Reader

metadata = MetaData(naming_convention=NAMING_CONVENTION)

OPEN_STATES = ("firing", "recovered", "acknowledged")
ALL_STATES = (*OPEN_STATES, "resolved")
SEVERITIES = ("warning", "critical")
SCAN_STATUSES = ("ok", "failed", "no_data", "error")

#: The version of a retraining recorded without one (never merged with another).
NO_VERSION = ""


def _pk() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _model() -> Column[str]:
    return Column("model", String(200), nullable=False)


def _at(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


alert_condition = Table(
    "alert_condition",
    metadata,
    _pk(),
    _model(),
    Column("check_id", String(300), nullable=False),
    Column("segment", String(300), nullable=False, default=WHOLE_WINDOW),
    Column("state", String(16), nullable=False, default="ok"),
    Column("breach_streak", Integer, nullable=False, default=0),
    Column("ok_streak", Integer, nullable=False, default=0),
    _at("last_window_end", nullable=True),
    Column("threshold_key", String(200)),
    Column("value", Double),
    Column("threshold", Double),
    _at("updated_at"),
    UniqueConstraint("model", "check_id", "segment"),
)

alert = Table(
    "alert",
    metadata,
    _pk(),
    _model(),
    Column("check_id", String(300), nullable=False),
    Column("segment", String(300), nullable=False, default=WHOLE_WINDOW),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("condition", String(16), nullable=False),
    Column("occurrences", Integer, nullable=False, default=1),
    Column("value", Double),
    Column("threshold", Double),
    Column("summary", Text, nullable=False, default=""),
    Column("segments", json_type(), nullable=False, default=list, server_default="[]"),
    Column("runbook", Text),
    _at("raised_at"),
    _at("recorded_at", nullable=True),
    _at("last_breach_at", nullable=True),
    _at("recovered_at", nullable=True),
    _at("acked_at", nullable=True),
    Column("acked_by", String(200)),
    Column("ack_note", Text),
    _at("snoozed_until", nullable=True),
    Column("snoozed_by", String(200)),
    _at("resolved_at", nullable=True),
    Column("resolved_by", String(200)),
    Column("resolve_reason", String(64)),
    Column("resolution", String(32)),
    _at("next_reminder_at", nullable=True),
    Column("remind_every_s", Integer),
    Column("reminders_sent", Integer, nullable=False, default=0, server_default="0"),
    _at("flapping_since", nullable=True),
    _at("escalate_at", nullable=True),
    Column("ack_timeout_s", Integer),
    _at("ack_expires_at", nullable=True),
    Column("slack_channel", String(100)),
    Column("slack_ts", String(40)),
    Column("version", Integer, nullable=False, default=1),
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

alert_event = Table(
    "alert_event",
    metadata,
    _pk(),
    Column("alert_id", Integer, ForeignKey("alert.id"), nullable=False),
    _at("at"),
    _at("recorded_at", nullable=True),
    Column("kind", String(32), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("note", Text),
    _at("window_end", nullable=True),
    Column("details", json_type(), nullable=False, default=dict),
    Index("ix_alert_event_alert_id", "alert_id"),
)

notification = Table(
    "notification",
    metadata,
    _pk(),
    Column("alert_id", Integer, ForeignKey("alert.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("event", String(32), nullable=False, default=""),
    Column("data", json_type(), nullable=False, default=dict),
    Column("broadcast", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    _at("created_at"),
    _at("next_attempt_at"),
    _at("claimed_until", nullable=True),
    Column("claimed_by", String(64)),
    _at("attempt_started_at", nullable=True),
    Column("last_error", Text),
    _at("sent_at", nullable=True),
    Column("slack_ts", String(40)),
    Index("ix_notification_due", "status", "next_attempt_at"),
    Index("ix_notification_alert_id", "alert_id"),
)

silence = Table(
    "silence",
    metadata,
    _pk(),
    _model(),
    _at("starts_at"),
    _at("ends_at"),
    Column("created_by", String(200), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("cancelled_by", String(200)),
    _at("ended_at", nullable=True),
    Index("ix_silence_model", "model"),
)

channel_hold = Table(
    "channel_hold",
    metadata,
    Column("channel", String(100), primary_key=True),
    _at("until"),
    Column("reason", Text, nullable=False, default=""),
)

scan = Table(
    "scan",
    metadata,
    _pk(),
    Column("model", String(200), nullable=False, index=True),
    _at("window_start"),
    _at("window_end"),
    Column("reference", json_type(), nullable=False),
    Column("rows_reference", Integer),
    Column("rows_live", Integer),
    Column("rows_labelled", Integer),
    Column("model_versions", json_type(), nullable=False, default=list),
    Column("config_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    _at("started_at"),
    _at("finished_at"),
    Column("timings", json_type(), nullable=False, default=dict),
    Column("metrics", json_type(), nullable=False, default=dict),
    Column("warnings", json_type()),
    UniqueConstraint("model", "window_end"),
    CheckConstraint("status IN ('ok', 'failed', 'no_data', 'error')", name="status_known"),
)

check_result = Table(
    "check_result",
    metadata,
    _pk(),
    Column(
        "scan_id", Integer, ForeignKey("scan.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("check", String(300), nullable=False),
    Column("segment", String(300), nullable=False, default=WHOLE_WINDOW),
    Column("method", String(100), nullable=False),
    Column("value", Float),
    Column("threshold", Float),
    Column("passed", Boolean),
    Column("severity", String(16)),
    Column("reason", Text),
    Column("details", json_type(), nullable=False, default=dict),
    UniqueConstraint("scan_id", "check", "segment"),
)

scan_attempt = Table(
    "scan_attempt",
    metadata,
    _pk(),
    Column(
        "scan_id", Integer, ForeignKey("scan.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("model", String(200), nullable=False, index=True),
    _at("window_start"),
    _at("window_end"),
    Column("error", Text, nullable=False),
    Column("config_hash", String(64), nullable=False),
    _at("started_at"),
    _at("finished_at"),
)

reference_profile = Table(
    "reference_profile",
    metadata,
    _pk(),
    Column("model", String(200), nullable=False, index=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("descriptor", json_type(), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("metrics", json_type(), nullable=False, default=dict),
    _at("created_at"),
    Column("identity", String(64), index=True),
    _at("checked_at", nullable=True),
)

#: a ``reference_profile`` row's summary (Arrow IPC, 160 MB for 1M rows of 20 numerical
#: columns), in a row of its own: SQLite rewrites a whole row on any UPDATE and walks a
#: large value's pages to reach the columns after it, so beside the summary, marking a
#: fixed reference checked rewrote the summary and reading its metrics read through it
reference_payload = Table(
    "reference_payload",
    metadata,
    Column(
        "profile_id",
        Integer,
        ForeignKey("reference_profile.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("profiles", LargeBinary, nullable=False),
)

drift_calibration = Table(
    "drift_calibration",
    metadata,
    _pk(),
    Column("fingerprint", String(64), nullable=False, index=True),
    Column("key", String(600), nullable=False),
    Column("calibration", json_type(), nullable=False),
    _at("created_at"),
    UniqueConstraint("fingerprint", "key"),
)

performance_estimate = Table(
    "performance_estimate",
    metadata,
    _pk(),
    Column("model", String(200), nullable=False, index=True),
    Column("metric", String(100), nullable=False),
    Column(
        "segment", String(300), nullable=False, default=WHOLE_WINDOW, server_default=WHOLE_WINDOW
    ),
    _at("window_start"),
    _at("window_end"),
    Column("estimated", Float),
    Column("lower", Float),
    Column("upper", Float),
    Column("sampling_error", Float),
    Column("rows", Integer),
    Column("how", Text),
    Column("realised", Float),
    Column("labelled", Integer),
    _at("realised_at", nullable=True),
    UniqueConstraint("model", "metric", "segment", "window_end"),
)

lease = Table(
    "lease",
    metadata,
    Column("name", String(300), primary_key=True),
    Column("holder", String(200), nullable=False),
    _at("acquired_at"),
    _at("expires_at"),
    Column("version", Integer, nullable=False, default=1, server_default="1"),
)

heartbeat = Table(
    "heartbeat",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    _at("beat_at"),
)

retraining = Table(
    "retraining",
    metadata,
    _pk(),
    Column("model", String(200), nullable=False, index=True),
    Column("version", String(200), nullable=False, default=NO_VERSION),
    _at("retrained_at"),
    _at("recorded_at"),
    Column("source", String(16), nullable=False),
    Column("recorded_by", String(200)),
    Column("note", Text),
)


def silence_in_force(now: datetime) -> ColumnElement[bool]:
    """SQL condition: the silence holds notifications at ``now``. It has started, not reached
    its planned end, and not been cancelled before ``now`` (a cancelled window's ``ended_at`` is
    its cancel time; a window ended by `tick` has ``ended_at >= ends_at``)."""
    window = silence.c
    return and_(
        window.starts_at <= now,
        window.ends_at > now,
        or_(window.ended_at.is_(None), window.ended_at > now),
    )


def active_silence_end(bind: Reader, model: str, now: datetime) -> datetime | None:
    """The latest end of the silences covering ``model`` now, or None if it is not silenced."""
    query = select(silence.c.ends_at).where(silence.c.model == model, silence_in_force(now))
    ends = list(bind.scalars(query))
    return max(ends) if ends else None
