"""State DB tables of the running service: scan leases and heartbeats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from monitor.store.base import Base, UTCDateTime


class Lease(Base):
    """Who may do one unit of work (``scan:<model>``, ``tick``) until ``expires_at``.

    A holder that dies stops renewing, so the lease expires and another replica takes it.
    ``version`` goes up at every taking: the fencing token a holder's writes are checked with.
    """

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Heartbeat(Base):
    """The last time a periodic job (``tick``) finished, for ``/readyz`` and ``/metrics``."""

    __tablename__ = "heartbeat"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
