"""drift calibration: calibrated drift thresholds cached per reference fingerprint

Revision ID: 20261202_03
Revises: 20261202_02
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_03"
down_revision: str | Sequence[str] | None = "20261202_02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "drift_calibration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("calibration", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_calibration")),
        sa.UniqueConstraint(
            "fingerprint", "key", name=op.f("uq_drift_calibration_fingerprint_key")
        ),
    )
    op.create_index(
        op.f("ix_drift_calibration_fingerprint"), "drift_calibration", ["fingerprint"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_drift_calibration_fingerprint"), table_name="drift_calibration")
    op.drop_table("drift_calibration")
