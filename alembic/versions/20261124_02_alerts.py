"""alerts: alert_condition, alert, alert_event, notification (outbox), silence

Revision ID: 20261124_02
Revises: 20261124_01
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261124_02"
down_revision: str | Sequence[str] | None = "20261124_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ONLY = "state <> 'resolved'"


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _key() -> list[sa.Column]:
    return [
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("check_id", sa.String(300), nullable=False),
        sa.Column("segment", sa.String(300), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "alert",
        _id(),
        *_key(),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("condition", sa.String(16), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("runbook", sa.Text(), nullable=True),
        sa.Column("raised_at", _time(), nullable=False),
        sa.Column("last_breach_at", _time(), nullable=True),
        sa.Column("recovered_at", _time(), nullable=True),
        sa.Column("acked_at", _time(), nullable=True),
        sa.Column("acked_by", sa.String(200), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.Column("snoozed_until", _time(), nullable=True),
        sa.Column("snoozed_by", sa.String(200), nullable=True),
        sa.Column("resolved_at", _time(), nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolve_reason", sa.String(64), nullable=True),
        sa.Column("next_reminder_at", _time(), nullable=True),
        sa.Column("remind_every_s", sa.Integer(), nullable=True),
        sa.Column("slack_channel", sa.String(100), nullable=True),
        sa.Column("slack_ts", sa.String(40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('firing', 'recovered', 'acknowledged', 'resolved')",
            name=op.f("ck_alert_state_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index("ix_alert_state", "alert", ["state"])
    # At most one open alert per key, on SQLite and PostgreSQL alike (partial index).
    op.create_index(
        "uq_alert_open_key",
        "alert",
        ["model", "check_id", "segment"],
        unique=True,
        sqlite_where=sa.text(OPEN_ONLY),
        postgresql_where=sa.text(OPEN_ONLY),
    )
    op.create_table(
        "alert_condition",
        _id(),
        *_key(),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("breach_streak", sa.Integer(), nullable=False),
        sa.Column("ok_streak", sa.Integer(), nullable=False),
        sa.Column("last_window_end", _time(), nullable=True),
        sa.Column("threshold_key", sa.String(200), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_condition")),
        sa.UniqueConstraint(
            "model", "check_id", "segment", name=op.f("uq_alert_condition_model_check_id_segment")
        ),
    )
    op.create_table(
        "silence",
        _id(),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("starts_at", _time(), nullable=False),
        sa.Column("ends_at", _time(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ended_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence")),
    )
    op.create_index("ix_silence_model", "silence", ["model"])
    op.create_table(
        "alert_event",
        _id(),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("window_end", _time(), nullable=True),
        sa.Column("details", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_event_alert_id_alert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
    )
    op.create_index("ix_alert_event_alert_id", "alert_event", ["alert_id"])
    op.create_table(
        "notification",
        _id(),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("broadcast", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("next_attempt_at", _time(), nullable=False),
        sa.Column("claimed_until", _time(), nullable=True),
        sa.Column("attempt_started_at", _time(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", _time(), nullable=True),
        sa.Column("slack_ts", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_notification_alert_id_alert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index("ix_notification_alert_id", "notification", ["alert_id"])
    op.create_index("ix_notification_due", "notification", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in ("notification", "alert_event", "silence", "alert_condition", "alert"):
        op.drop_table(table)
