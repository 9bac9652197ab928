"""scan core: scan, check_result, reference_profile

Revision ID: 20261124_01
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261124_01"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("window_start", _time(), nullable=False),
        sa.Column("window_end", _time(), nullable=False),
        sa.Column("reference", _json(), nullable=False),
        sa.Column("rows_reference", sa.Integer(), nullable=True),
        sa.Column("rows_live", sa.Integer(), nullable=True),
        sa.Column("rows_labelled", sa.Integer(), nullable=True),
        sa.Column("model_versions", _json(), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", _time(), nullable=False),
        sa.Column("finished_at", _time(), nullable=False),
        sa.Column("timings", _json(), nullable=False),
        sa.Column("metrics", _json(), nullable=False),
        sa.CheckConstraint(
            "status IN ('ok', 'failed', 'no_data', 'error')", name=op.f("ck_scan_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan")),
        sa.UniqueConstraint("model", "window_end", name=op.f("uq_scan_model_window_end")),
    )
    op.create_index(op.f("ix_scan_model"), "scan", ["model"], unique=False)
    op.create_table(
        "check_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(length=300), nullable=False),
        sa.Column("segment", sa.String(length=300), nullable=False),
        sa.Column("method", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scan.id"], name=op.f("fk_check_result_scan_id_scan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_result")),
        sa.UniqueConstraint(
            "scan_id", "check", "segment", name=op.f("uq_check_result_scan_id_check_segment")
        ),
    )
    op.create_index(op.f("ix_check_result_scan_id"), "check_result", ["scan_id"], unique=False)
    op.create_table(
        "reference_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("descriptor", _json(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("profiles", sa.LargeBinary(), nullable=False),
        sa.Column("metrics", _json(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_profile")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_reference_profile_fingerprint")),
    )
    op.create_index(
        op.f("ix_reference_profile_model"), "reference_profile", ["model"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reference_profile_model"), table_name="reference_profile")
    op.drop_table("reference_profile")
    op.drop_index(op.f("ix_check_result_scan_id"), table_name="check_result")
    op.drop_table("check_result")
    op.drop_index(op.f("ix_scan_model"), table_name="scan")
    op.drop_table("scan")
