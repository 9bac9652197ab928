"""performance estimate segment: a segmented model's estimates per segment

Rows stored before this revision are the whole window's (segment ""). The unique key gains
the segment: one estimate per (model, metric, segment, window end).

Revision ID: 20261204_10
Revises: 20261203_50
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_10"
down_revision: str | Sequence[str] | None = "20261203_50"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "uq_performance_estimate_model_metric_window_end"
NEW = "uq_performance_estimate_model_metric_segment_window_end"


def upgrade() -> None:
    with op.batch_alter_table("performance_estimate") as batch_op:
        batch_op.add_column(
            sa.Column("segment", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.drop_constraint(OLD, type_="unique")
        batch_op.create_unique_constraint(NEW, ["model", "metric", "segment", "window_end"])


def downgrade() -> None:
    # a segment's estimates have no place in the old key: they go, the whole window's stay
    op.execute("DELETE FROM performance_estimate WHERE segment <> ''")
    with op.batch_alter_table("performance_estimate") as batch_op:
        batch_op.drop_constraint(NEW, type_="unique")
        batch_op.create_unique_constraint(OLD, ["model", "metric", "window_end"])
        batch_op.drop_column("segment")
