"""fencing and delivery claims: lease.version, notification.claimed_by, channel_hold

Revision ID: 20261125_01
Revises: 20261124_03
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261125_01"
down_revision: str | Sequence[str] | None = "20261124_03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The fencing token of a lease: bumped at every taking, checked when a scan is stored.
    op.add_column(
        "lease", sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
    )
    # Which delivery pass holds a notification's claim, so it renews only its own claims.
    op.add_column("notification", sa.Column("claimed_by", sa.String(64), nullable=True))
    # Slack's Retry-After per channel, so the next tick (on any replica) waits for it.
    op.create_table(
        "channel_hold",
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_hold")),
    )


def downgrade() -> None:
    op.drop_table("channel_hold")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("claimed_by")
    with op.batch_alter_table("lease") as batch:
        batch.drop_column("version")
