"""Leases in the state DB: one replica at a time per unit of work, taken over when it dies.

A lease is a row (name, holder, expires_at, version). Taking it is one INSERT, or, when the
row exists, one conditional UPDATE that succeeds only if the lease expired or is already ours:
the database decides between competing replicas, on SQLite and PostgreSQL alike. Each call
commits on its own session so other replicas see the lease at once.

A holder can be paused past its lease (SIGSTOP, a long GC, a swapped-out VM) and resume
believing it still holds it. So every taking bumps ``version``, and work that must happen
once (storing a scan) calls :func:`check` with the :class:`Fence` it got, in the transaction
that writes: a holder whose lease was taken over meanwhile is refused there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.errors import MonitorError
from monitor.store import Heartbeat, Lease

Sessions = Callable[[], Session]


class LeaseLostError(MonitorError):
    """The lease was taken over by another holder since this one took it."""

    def __init__(self, fence: Fence) -> None:
        super().__init__(
            f"lease {fence.name!r} was taken over by another replica (our version "
            f"{fence.token}); this replica's work under it is not stored"
        )
        self.fence = fence


@dataclass(frozen=True)
class Fence:
    """Proof of holding lease ``name`` as ``holder`` at ``token`` (the lease's version)."""

    name: str
    holder: str
    token: int
    # Set by the renewal thread when it finds the lease gone: stop starting new work.
    lost: threading.Event = field(default_factory=threading.Event, compare=False)


def acquire(sessions: Sessions, name: str, *, holder: str, ttl: timedelta) -> int | None:
    """Take (or extend) lease ``name`` for ``ttl`` and return its new version (the fencing
    token); None when another live holder has it."""
    now = datetime.now(UTC)
    with sessions() as session:
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.expires_at < now) | (Lease.holder == holder))
            .values(holder=holder, acquired_at=now, expires_at=now + ttl, version=Lease.version + 1)
            .returning(Lease.version)
        ).scalar_one_or_none()
        if taken is not None:
            session.commit()
            return int(taken)
        try:
            session.execute(
                insert(Lease).values(
                    name=name, holder=holder, acquired_at=now, expires_at=now + ttl, version=1
                )
            )
            session.commit()
        except IntegrityError:  # someone else holds it (or took it a moment ago)
            session.rollback()
            return None
        return 1


def check(session: Session, fence: Fence) -> None:
    """Raise :class:`LeaseLostError` unless ``fence`` still holds its lease; never commits.

    Call it in the transaction that stores the work, just before the commit. The UPDATE
    locks the lease row until then (PostgreSQL; SQLite has one writer at a time), so a
    takeover either happened before, and we are refused, or waits until our work is stored,
    and the new holder sees it.
    """
    result = session.execute(
        update(Lease)
        .where(Lease.name == fence.name, Lease.holder == fence.holder, Lease.version == fence.token)
        .values(version=Lease.version)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLostError(fence)


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
def held(sessions: Sessions, name: str, *, holder: str, ttl: timedelta) -> Iterator[Fence | None]:
    """Hold lease ``name`` for the block, renewed every ``ttl / 3`` by a thread.

    Yields the :class:`Fence` to check writes with, or None (holding nothing) when another
    replica has the lease. A process that dies stops renewing, so the lease expires within
    ``ttl`` and another replica takes over.
    """
    token = acquire(sessions, name, holder=holder, ttl=ttl)
    if token is None:
        yield None
        return
    fence = Fence(name, holder, token)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew_until, args=(stop, sessions, fence, ttl), daemon=True)
    renewer.start()
    try:
        yield fence
    finally:
        stop.set()
        renewer.join()
        release(sessions, name, holder=holder)


def _renew_until(stop: threading.Event, sessions: Sessions, fence: Fence, ttl: timedelta) -> None:
    log = logging.getLogger("monitor.run")
    while not stop.wait(ttl.total_seconds() / 3):
        try:
            if not renew(sessions, fence.name, holder=fence.holder, ttl=ttl):
                fence.lost.set()
                log.warning("lease lost", extra={"lease": fence.name})
        except Exception as exc:  # the state DB is down: the lease may lapse, the scan goes on
            log.warning(
                "lease renewal failed", extra={"lease": fence.name, "error": type(exc).__name__}
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
