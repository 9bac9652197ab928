"""alert noise control (issue 15): alert.flapping_since (the data time it started flapping),
alert.escalate_at (when an unacknowledged critical is paged again), alert.ack_timeout_s and
alert.ack_expires_at (an acknowledgement that times out re-notifies), silence.cancelled_by
(a maintenance window ended early, and by whom)

Revision ID: 20261203_10
Revises: 20261202_03
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_10"
down_revision: str | Sequence[str] | None = "20261202_03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch_op:
        batch_op.add_column(sa.Column("flapping_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ack_timeout_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ack_expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("silence") as batch_op:
        batch_op.add_column(sa.Column("cancelled_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("silence") as batch_op:
        batch_op.drop_column("cancelled_by")
    with op.batch_alter_table("alert") as batch_op:
        batch_op.drop_column("ack_expires_at")
        batch_op.drop_column("ack_timeout_s")
        batch_op.drop_column("escalate_at")
        batch_op.drop_column("flapping_since")
