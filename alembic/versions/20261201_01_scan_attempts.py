"""scan attempts: a failed re-scan kept beside the stored results it did not replace;
scan warnings (mixed timestamp spellings, categories capped, an empty reference)

Revision ID: 20261201_01
Revises: 20261125_01
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_01"
down_revision: str | Sequence[str] | None = "20261125_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scan_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("window_start", _time(), nullable=False),
        sa.Column("window_end", _time(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.Column("started_at", _time(), nullable=False),
        sa.Column("finished_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["scan.id"],
            name=op.f("fk_scan_attempt_scan_id_scan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_attempt")),
    )
    op.create_index(op.f("ix_scan_attempt_model"), "scan_attempt", ["model"], unique=False)
    op.create_index(op.f("ix_scan_attempt_scan_id"), "scan_attempt", ["scan_id"], unique=False)
    with op.batch_alter_table("scan") as batch_op:
        batch_op.add_column(sa.Column("warnings", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan") as batch_op:
        batch_op.drop_column("warnings")
    op.drop_index(op.f("ix_scan_attempt_scan_id"), table_name="scan_attempt")
    op.drop_index(op.f("ix_scan_attempt_model"), table_name="scan_attempt")
    op.drop_table("scan_attempt")
