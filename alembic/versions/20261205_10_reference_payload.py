"""reference payload: a cached reference summary's bytes in a table of their own

SQLite rewrites a whole row on any UPDATE, and reads through a large value's pages to reach
the columns stored after it. With the summary (160 MB for a 1M-row reference) inside the
``reference_profile`` row, marking a fixed reference checked (once per ``refresh``, so every
daily scan by default) rewrote the summary, and reading its metrics read through it. Each
summary moves, unchanged, to ``reference_payload`` under its row's id.

Revision ID: 20261205_10
Revises: 20261204_10
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_10"
down_revision: str | Sequence[str] | None = "20261204_10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reference_payload",
        sa.Column("profile_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("profiles", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["reference_profile.id"],
            name=op.f("fk_reference_payload_profile_id_reference_profile"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_reference_payload")),
    )
    op.execute(
        "INSERT INTO reference_payload (profile_id, profiles)"
        " SELECT id, profiles FROM reference_profile"
    )
    if op.get_context().dialect.name == "sqlite":
        # in place (SQLite 3.35+), not by batch mode's copy of the table: dropping the old
        # table would cascade to the payloads just copied
        op.execute("ALTER TABLE reference_profile DROP COLUMN profiles")
    else:
        op.drop_column("reference_profile", "profiles")


def downgrade() -> None:
    op.add_column("reference_profile", sa.Column("profiles", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE reference_profile SET profiles = (SELECT p.profiles FROM reference_payload p"
        " WHERE p.profile_id = reference_profile.id)"
    )
    op.drop_table("reference_payload")
    # a summary without its bytes cannot be read: it goes (the next scan summarises again)
    op.execute("DELETE FROM reference_profile WHERE profiles IS NULL")
    with op.batch_alter_table("reference_profile") as batch:
        batch.alter_column("profiles", existing_type=sa.LargeBinary(), nullable=False)
