"""Retention of scans and their performance estimates (``retention.scans``), pruned by
``tick``.

Alerts and their events are kept whatever their age: they are the evidence trail. Each
model's latest scan is kept too, since catch-up and staleness are measured from it.
Notifications are pruned by ``tick`` itself (``retention.notifications``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased

from monitor.alerts.dispatch import SessionSource, unit
from monitor.store import CheckResult, PerformanceEstimate, Scan


def prune_scans(sessions: SessionSource, *, before: datetime) -> int:
    """Delete scans whose window ended before ``before`` (with their results); commits."""
    newer = aliased(Scan)
    latest = select(func.max(newer.window_end)).where(newer.model == Scan.model).scalar_subquery()
    doomed = select(Scan.id).where(Scan.window_end < before, Scan.window_end < latest)
    with unit(sessions) as session:
        ids = list(session.scalars(doomed))
        # estimates (and the realised values beside them) go with the scans of their age
        session.execute(delete(PerformanceEstimate).where(PerformanceEstimate.window_end < before))
        if ids:
            session.execute(delete(CheckResult).where(CheckResult.scan_id.in_(ids)))
            session.execute(delete(Scan).where(Scan.id.in_(ids)))
        session.commit()
    return len(ids)
