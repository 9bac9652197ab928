"""data time: alert.raised_at and scan-driven alert_event.at become the window end of the scan
that caused them; the wall clock of the write is kept as recorded_at. alert.resolution: what
a person resolving it judged it to be (fixed, expected, false_positive); alert.reminders_sent: the reminder back-off

Revision ID: 20261202_02
Revises: 20261202_01
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_02"
down_revision: str | Sequence[str] | None = "20261202_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch_op:
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("alert_event") as batch_op:
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
    # Rows written before the upgrade were stamped with the wall clock: that is what they
    # recorded. Their times stay as they were (the window ends are not known for every row).
    alert = sa.table("alert", sa.column("raised_at"), sa.column("recorded_at"))
    op.execute(alert.update().values(recorded_at=alert.c.raised_at))
    event = sa.table("alert_event", sa.column("at"), sa.column("recorded_at"))
    op.execute(event.update().values(recorded_at=event.c.at))


def downgrade() -> None:
    with op.batch_alter_table("alert_event") as batch_op:
        batch_op.drop_column("recorded_at")
    with op.batch_alter_table("alert") as batch_op:
        batch_op.drop_column("reminders_sent")
        batch_op.drop_column("resolution")
        batch_op.drop_column("recorded_at")
