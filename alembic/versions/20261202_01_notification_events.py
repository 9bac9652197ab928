"""notification events: outbox rows carry an event kind and its data instead of Slack text,
so each notifier (Slack, console, later others) words the message itself

Revision ID: 20261202_01
Revises: 20261201_01
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_01"
down_revision: str | Sequence[str] | None = "20261201_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _object(*pairs: sa.ColumnElement[object] | str) -> sa.ColumnElement[object]:
    if op.get_bind().dialect.name == "postgresql":
        return sa.func.jsonb_build_object(*pairs)
    return sa.func.json_object(*pairs)


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(
            sa.Column("event", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("data", _json(), nullable=True))
    row = sa.table(
        "notification",
        sa.column("kind", sa.String()),
        sa.column("text", sa.Text()),
        sa.column("event", sa.String()),
        sa.column("data", _json()),
    )
    # Rows queued before the upgrade keep their words: a "text" event is sent as written.
    op.execute(
        row.update().where(row.c.kind == "reply").values(event="text", data=_object("text", row.c.text))
    )
    op.execute(
        row.update()
        .where(row.c.kind == "post", row.c.text != "")
        .values(data=_object("mention", row.c.text))
    )
    op.execute(row.update().where(row.c.data.is_(None)).values(data=_object()))
    with op.batch_alter_table("notification") as batch_op:
        batch_op.alter_column("event", server_default=None)
        batch_op.alter_column("data", existing_type=_json(), nullable=False)
        batch_op.drop_column("text")


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
        batch_op.drop_column("data")
        batch_op.drop_column("event")
