"""Leases in the state DB: one replica at a time per unit of work, taken over when it dies.

A lease is a row (name, holder, expires_at). Taking it is one INSERT, or, when the row
exists, one conditional UPDATE that succeeds only if the lease expired or is already ours:
the database decides between competing replicas, on SQLite and PostgreSQL alike. Each call
commits on its own session so other replicas see the lease at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.run.models import Heartbeat, Lease

Sessions = Callable[[], Session]


def acquire(sessions: Sessions, name: str, *, holder: str, ttl: timedelta) -> bool:
    """Take (or extend) lease ``name`` for ``ttl``; False when another live holder has it."""
    now = datetime.now(UTC)
    with sessions() as session:
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.expires_at < now) | (Lease.holder == holder))
            .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        )
        if taken.rowcount:  # type: ignore[attr-defined]
            session.commit()
            return True
        try:
            session.execute(
                insert(Lease).values(
                    name=name, holder=holder, acquired_at=now, expires_at=now + ttl
                )
            )
            session.commit()
        except IntegrityError:  # someone else holds it (or took it a moment ago)
            session.rollback()
            return False
        return True


def renew(sessions: Sessions, name: str, *, holder: str, ttl: timedelta) -> bool:
    """Extend our lease; False when it was lost (it expired and another replica took it)."""
    now = datetime.now(UTC)
    with sessions() as session:
        result = session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=now + ttl)
        )
        session.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release(sessions: Sessions, name: str, *, holder: str) -> None:
    with sessions() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
        session.commit()


@contextmanager
def held(sessions: Sessions, name: str, *, holder: str, ttl: timedelta) -> Iterator[bool]:
    """Hold lease ``name`` for the block, renewed every ``ttl / 3`` by a thread.

    Yields False (and holds nothing) when another replica has it. A process that dies
    stops renewing, so the lease expires within ``ttl`` and another replica takes over.
    """
    if not acquire(sessions, name, holder=holder, ttl=ttl):
        yield False
        return
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew_until, args=(stop, sessions, name, holder, ttl), daemon=True
    )
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        release(sessions, name, holder=holder)


def _renew_until(
    stop: threading.Event, sessions: Sessions, name: str, holder: str, ttl: timedelta
) -> None:
    import logging

    while not stop.wait(ttl.total_seconds() / 3):
        try:
            if not renew(sessions, name, holder=holder, ttl=ttl):
                logging.getLogger("monitor.run").warning("lease lost", extra={"lease": name})
        except Exception as exc:  # the state DB is down: the lease may lapse, the scan goes on
            logging.getLogger("monitor.run").warning(
                "lease renewal failed", extra={"lease": name, "error": type(exc).__name__}
            )


def live(sessions: Sessions, *, prefix: str = "") -> set[str]:
    """Names of the leases someone holds now (not expired), starting with ``prefix``."""
    now = datetime.now(UTC)
    with sessions() as session:
        query = select(Lease.name).where(Lease.expires_at >= now, Lease.name.startswith(prefix))
        return set(session.scalars(query))


def beat(sessions: Sessions, name: str, *, holder: str, at: datetime) -> None:
    """Record that periodic job ``name`` just finished (``/readyz``: tick ran recently)."""
    with sessions() as session:
        row = session.get(Heartbeat, name)
        if row is None:
            session.add(Heartbeat(name=name, holder=holder, beat_at=at))
        else:
            row.holder, row.beat_at = holder, at
        try:
            session.commit()
        except IntegrityError:  # another replica wrote the first beat at the same moment
            session.rollback()
