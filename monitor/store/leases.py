"""State DB tables of the running service: scan leases and heartbeats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from monitor.store import tables
from monitor.store.orm import Base


class Lease(Base):
    """Who may do one unit of work (``scan:<model>``, ``tick``) until ``expires_at``.

    A holder that dies stops renewing, so the lease expires and another replica takes it.
    ``version`` goes up at every taking: the fencing token a holder's writes are checked with.
    """

    __table__ = tables.lease

    name: Mapped[str]
    holder: Mapped[str]
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    version: Mapped[int]


class Heartbeat(Base):
    """The last time a periodic job (``tick``) finished, for ``/readyz`` and ``/metrics``."""

    __table__ = tables.heartbeat

    name: Mapped[str]
    holder: Mapped[str]
    beat_at: Mapped[datetime]
