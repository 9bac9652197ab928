"""alert segments: one alert per (model, check) lists its failing segments

Alerts stored before this revision were one per (model, check, segment); they keep their
segment and follow it until they close (monitor/alerts/evaluate.py), with an empty list.

Revision ID: 20261203_20
Revises: 20261203_10
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_20"
down_revision: str | Sequence[str] | None = "20261203_10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch_op:
        batch_op.add_column(sa.Column("segments", _json(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch_op:
        batch_op.drop_column("segments")
