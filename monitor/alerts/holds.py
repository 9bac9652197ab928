"""Channel holds: Slack said "429, Retry-After: N" for a channel, so nobody calls it for N s.

The hold is a row, not worker memory: the next tick, the delivery after a button click and
the other replicas all read it. A channel is spelt two ways in the outbox (a post goes to the
configured name, ``#ml-alerts``; replies and edits to the id Slack answered with,
``C0123``), so a hold covers both spellings where a posted alert has shown them to be one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from monitor import dialect
from monitor.alerts.policy import is_external
from monitor.store import tables

if TYPE_CHECKING:
    from monitor.store.rows import Reader

# Core tables: a delivery runs on an ORM session or on a plain connection (`monitor ack`).
HOLD = tables.channel_hold
ALERT = tables.alert
OUTBOX = tables.notification


def hold_until(session: Reader, channel: str, *, now: datetime) -> datetime | None:
    """When the hold on ``channel`` ends, or None if it is not held at ``now``."""
    query = select(HOLD.c.until).where(
        HOLD.c.channel.in_(_spellings(session, channel)), HOLD.c.until > now
    )
    ends = list(session.scalars(query))
    return max(ends) if ends else None


def hold(session: Reader, channel: str, *, until: datetime, reason: str) -> None:
    """Hold ``channel`` (both its spellings) until ``until``; a later hold is never shortened."""
    for name in _spellings(session, channel):
        statement = dialect.insert(session, HOLD).values(
            channel=name, until=until, reason=reason[:500]
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[HOLD.c.channel],
                set_={"until": statement.excluded.until, "reason": statement.excluded.reason},
                where=HOLD.c.until < statement.excluded.until,
            )
        )


def prune_holds(session: Reader, *, now: datetime) -> int:
    result = session.execute(delete(HOLD).where(HOLD.c.until <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _spellings(session: Reader, channel: str) -> set[str]:
    """``channel`` and, if a posted alert links them, its other spelling (name or id).
    A ``kind:name`` destination has one spelling (and is no Slack channel's other one)."""
    if is_external(channel):
        return {channel}
    linked = (
        select(OUTBOX.c.channel, ALERT.c.slack_channel)
        .join(ALERT, ALERT.c.id == OUTBOX.c.alert_id)
        .where(
            OUTBOX.c.kind == "post",
            ~OUTBOX.c.channel.contains(":"),
            ALERT.c.slack_channel.is_not(None),
            (OUTBOX.c.channel == channel) | (ALERT.c.slack_channel == channel),
        )
        .limit(1)
    )
    names = {channel}
    for name, slack_id in session.execute(linked):
        names.update(n for n in (name, slack_id) if n)
    return names
