"""performance estimate: estimated performance per window, with the realised value beside it

Revision ID: 20261203_50
Revises: 20261203_40
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_50"
down_revision: str | Sequence[str] | None = "20261203_40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "performance_estimate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=100), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("estimated", sa.Float(), nullable=True),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("sampling_error", sa.Float(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("how", sa.Text(), nullable=True),
        sa.Column("realised", sa.Float(), nullable=True),
        sa.Column("labelled", sa.Integer(), nullable=True),
        sa.Column("realised_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_estimate")),
        sa.UniqueConstraint(
            "model",
            "metric",
            "window_end",
            name=op.f("uq_performance_estimate_model_metric_window_end"),
        ),
    )
    op.create_index(
        op.f("ix_performance_estimate_model"), "performance_estimate", ["model"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_performance_estimate_model"), table_name="performance_estimate")
    op.drop_table("performance_estimate")
