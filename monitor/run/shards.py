"""Shards: which replica runs which models, so several replicas share a fleet's work.

A model belongs to shard ``crc32(name) % SHARDS``. Each shard is a lease (``shard:<k>``), so
a shard has one holder at a time, decided by the database's own conditional UPDATE / INSERT
(:func:`monitor.run.leases.acquire`). A replica fires only the scans of its shards' models and
judges only their staleness; the other replicas' firings of those models return at once,
without a query. Without shards every replica raced for every model's scan lease at the same
cron minute, and the fastest one did nearly all the work.

Each replica also holds a membership lease (``replica:<holder>``). Every :func:`claim` renews
both, counts the live members and moves towards a fair share, ``ceil(SHARDS / members)``:
a replica above it gives shards back, one below it takes free or expired ones. A replica that
dies stops renewing: within ``ttl`` its membership and its shards expire and the others take
them. A shard changing hands does not make a scan run twice: each scan still runs under its
model's own fenced lease (``scan:<model>``), and its due windows come from the DB.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from monitor.run import leases
from monitor.store import Lease

Sessions = Callable[[], Session]

# More than any number of replicas anyone runs, so a fair share rounds to within 1/64 of the
# fleet; few enough that claiming all of them at start is a handful of milliseconds.
SHARDS = 64
SHARD = "shard:"
MEMBER = "replica:"


def shard_of(model: str) -> int:
    """The shard of model ``model``: stable across processes and Python versions."""
    return zlib.crc32(model.encode()) % SHARDS


def claim(sessions: Sessions, *, holder: str, ttl: timedelta) -> frozenset[int]:
    """Renew our membership and shards, give back those beyond our fair share, take free
    ones up to it; the shards we hold now."""
    now = datetime.now(UTC)
    leases.acquire(sessions, MEMBER + holder, holder=holder, ttl=ttl)
    with sessions() as session:
        # Every start is a new holder: forget the members that left long ago.
        gone = Lease.name.startswith(MEMBER) & (Lease.expires_at < now - ttl)
        session.execute(delete(Lease).where(gone))
        mine = _renew(session, holder, now + ttl)
        rows = session.execute(
            select(Lease.name, Lease.expires_at).where(
                Lease.name.startswith(MEMBER) | Lease.name.startswith(SHARD)
            )
        ).all()
        members = sum(1 for name, expires in rows if name.startswith(MEMBER) and expires >= now)
        fair = math.ceil(SHARDS / max(members, 1))
        if len(mine) > fair:
            extra = sorted(mine)[fair:]
            session.execute(
                delete(Lease).where(
                    Lease.name.in_([SHARD + str(k) for k in extra]), Lease.holder == holder
                )
            )
            mine -= set(extra)
        session.commit()
    taken = {int(name[len(SHARD) :]) for name, exp in rows if name.startswith(SHARD) and exp >= now}
    free = [k for k in range(SHARDS) if k not in taken and k not in mine]
    # Replicas starting together try the free shards in different orders, so few collide.
    random.Random(holder).shuffle(free)
    for k in free:
        if len(mine) >= fair:
            break
        if leases.acquire(sessions, SHARD + str(k), holder=holder, ttl=ttl) is not None:
            mine.add(k)
    return frozenset(mine)


def _renew(session: Session, holder: str, until: datetime) -> set[int]:
    renewed = session.execute(
        update(Lease)
        .where(Lease.name.startswith(SHARD), Lease.holder == holder)
        .values(expires_at=until)
        .returning(Lease.name)
    ).scalars()
    return {int(name[len(SHARD) :]) for name in renewed}


def release(sessions: Sessions, *, holder: str) -> None:
    """Give back our shards and membership (a clean shutdown): others take them at once."""
    with sessions() as session:
        session.execute(
            delete(Lease).where(
                Lease.holder == holder,
                Lease.name.startswith(SHARD) | (Lease.name == MEMBER + holder),
            )
        )
        session.commit()
