"""retrainings: when each model was retrained (API, CLI, or a new model_version in a scan)

Revision ID: 20261203_40
Revises: 20261203_30
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_40"
down_revision: str | Sequence[str] | None = "20261203_30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retraining",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("retrained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retraining")),
    )
    op.create_index(op.f("ix_retraining_model"), "retraining", ["model"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_retraining_model"), table_name="retraining")
    op.drop_table("retraining")
