"""reference refresh: a cached reference profile's identity and when its contents were checked

Revision ID: 20261203_30
Revises: 20261203_20
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_30"
down_revision: str | Sequence[str] | None = "20261203_20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reference_profile", sa.Column("identity", sa.String(length=64), nullable=True))
    op.add_column(
        "reference_profile", sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        op.f("ix_reference_profile_identity"), "reference_profile", ["identity"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reference_profile_identity"), table_name="reference_profile")
    with op.batch_alter_table("reference_profile") as batch:
        batch.drop_column("checked_at")
        batch.drop_column("identity")
