"""State DB table of retrainings, and the service functions that record and read them.

A retraining is recorded three ways: the API (``POST /api/models/{name}/retrainings``), the
CLI (``monitor retrained MODEL --version V``), or a scan that sees a ``model_version`` value
for the first time (its window start is the earliest the new version can have served). The
status report shows the latest one as "last retraining".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Mapped, Session

from monitor.store import tables
from monitor.store.orm import Base
from monitor.store.tables import NO_VERSION

Source = Literal["scan", "api", "cli"]


class Retraining(Base):
    """One retraining of a model. One row per version is kept by :func:`record_retraining`,
    not by a unique key: two replicas scanning two windows of a model may both see a new
    version, and a duplicate is harmless where a failed scan transaction would not be."""

    __table__ = tables.retraining

    id: Mapped[int]
    model: Mapped[str]
    version: Mapped[str]
    # Data time: when the new model started serving (or the earliest it can have).
    retrained_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    source: Mapped[str]
    recorded_by: Mapped[str | None]
    note: Mapped[str | None]


def record_retraining(
    *,
    session: Session,
    model: str,
    at: datetime,
    recorded_at: datetime,
    source: Source,
    version: str | None = None,
    by: str | None = None,
    note: str | None = None,
) -> Retraining:
    """Record that ``model`` was retrained at ``at``; a version already recorded is updated
    (a person's record wins over the scan's guess), never duplicated. Never commits."""
    row = _by_version(session, model, version) if version else None
    if row is None:
        row = Retraining(model=model, version=version or NO_VERSION)
        session.add(row)
    row.retrained_at = at
    row.recorded_at = recorded_at
    row.source = source
    row.recorded_by = by
    row.note = note
    session.flush()
    return row


def note_versions(
    *, session: Session, model: str, versions: Iterable[str], seen_from: datetime, now: datetime
) -> list[Retraining]:
    """Record each version of ``versions`` that ``model`` has no record of, as retrained at
    ``seen_from`` (the scan's window start); an earlier sighting (a backfill scanning an older
    window later) moves a scan-recorded date back. Returns the new records."""
    new = []
    for version in sorted(set(versions)):
        row = _by_version(session, model, version)
        if row is None:
            new.append(
                record_retraining(
                    session=session,
                    model=model,
                    version=version,
                    at=seen_from,
                    recorded_at=now,
                    source="scan",
                )
            )
        elif row.source == "scan" and seen_from < row.retrained_at:
            row.retrained_at = seen_from
    return new


def last_retraining(*, session: Session, model: str) -> Retraining | None:
    stmt = (
        select(Retraining)
        .where(Retraining.model == model)
        .order_by(Retraining.retrained_at.desc(), Retraining.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def list_retrainings(*, session: Session, model: str, limit: int = 100) -> list[Retraining]:
    """``model``'s retrainings, newest first."""
    stmt = (
        select(Retraining)
        .where(Retraining.model == model)
        .order_by(Retraining.retrained_at.desc(), Retraining.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _by_version(session: Session, model: str, version: str) -> Retraining | None:
    stmt = select(Retraining).where(Retraining.model == model, Retraining.version == version)
    return session.scalars(stmt.limit(1)).first()
