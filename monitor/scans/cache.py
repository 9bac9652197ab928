"""The ``reference_profile`` cache: a fixed reference is read and summarised once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import dialect
from monitor.config.schema import ModelConfig
from monitor.scans.calibration import Calibrations
from monitor.scans.fits import Fits
from monitor.scans.summary import ReferenceSummary, from_bytes, summarise, to_bytes
from monitor.sources import ModelLog, ReferenceReader
from monitor.sources.reference import ReferenceSpec
from monitor.store import DriftCalibration, ReferenceProfile
from monitor.windows import Window


@dataclass
class ReferencePlan:
    """Where a scan's reference summary will come from: the cache row, or the rows."""

    model: ModelConfig
    live: Window
    reader: ReferenceReader
    spec: ReferenceSpec
    cached_id: int | None

    @property
    def cached(self) -> bool:
        return self.cached_id is not None


def plan_reference(
    model: ModelConfig, log: ModelLog, live: Window, *, session: Session
) -> ReferencePlan:
    """Describe the reference and look up its cached summary (without loading it)."""
    reader = ReferenceReader(log)
    spec = reader.describe(live)
    cached_id = None
    if spec.fingerprint is not None:
        cached_id = session.scalar(
            select(ReferenceProfile.id).where(ReferenceProfile.fingerprint == spec.fingerprint)
        )
    return ReferencePlan(model, live, reader, spec, cached_id)


def load_reference(
    plan: ReferencePlan, *, session: Session
) -> tuple[ReferenceSummary, dict[str, Any]]:
    """The planned summary and its descriptor: the cached one, or summarised from the rows
    (and cached, when the reference is fixed; a rolling one is summarised every time)."""
    spec = plan.spec
    if plan.cached_id is not None:
        cached = session.get_one(ReferenceProfile, plan.cached_id)
        summary = from_bytes(cached.profiles, cached.descriptor["rows"], cached.metrics)
        summary.use_calibrations(_calibrations(session, spec.fingerprint))
        if plan.model.fitted:  # the rows are read only if a fit is not cached yet
            summary.fits = Fits(summary.calibrations, partial(plan.reader.load, plan.live))
        return summary, spec.descriptor | {"cached": True}
    frame = plan.reader.load(plan.live)
    summary = summarise(plan.model, frame)
    if spec.fingerprint is not None:
        _remember(session, _row(plan.model, spec.fingerprint, spec.descriptor, summary))
        summary.use_calibrations(_calibrations(session, spec.fingerprint))
    if plan.model.fitted:
        summary.fits = Fits(summary.calibrations, lambda: frame)
    return summary, spec.descriptor | {"cached": False}


def _calibrations(session: Session, fingerprint: str | None) -> Calibrations:
    """The calibrated drift thresholds cached for this reference (monitor/scans/calibration.py)."""
    if fingerprint is None:
        return Calibrations()
    rows = session.execute(
        select(DriftCalibration.key, DriftCalibration.calibration).where(
            DriftCalibration.fingerprint == fingerprint
        )
    )
    return Calibrations(fingerprint, {key: value for key, value in rows})


def remember_calibrations(session: Session, reference: ReferenceSummary) -> None:
    """Cache the thresholds this scan learnt, keyed by fingerprint and key; like the
    summary, a concurrent scan storing the same key first is not an error."""
    calibrations = reference.calibrations
    if calibrations.fingerprint is None or not calibrations.learnt:
        return
    now = datetime.now(UTC)
    values = [
        {"fingerprint": calibrations.fingerprint, "key": k, "calibration": v, "created_at": now}
        for k, v in calibrations.learnt.items()
    ]
    stmt = dialect.insert(session, DriftCalibration).values(values)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["fingerprint", "key"]))
    calibrations.known |= calibrations.learnt
    calibrations.learnt = {}


def reference_summary(
    model: ModelConfig, log: ModelLog, live: Window, *, session: Session
) -> tuple[ReferenceSummary, dict[str, Any]]:
    """The summary of ``model``'s reference for the live window, and its descriptor."""
    return load_reference(plan_reference(model, log, live, session=session), session=session)


def _remember(session: Session, row: ReferenceProfile) -> None:
    """Cache the summary. Another scan caching the same fingerprint first (a replica, or
    another model with the same reference on a worker thread of this process) is not an
    error: the same fingerprint means the same summary, theirs is as good as ours. One
    ``INSERT ... ON CONFLICT DO NOTHING`` in the scan's transaction, so a dry run's rollback
    takes it back too."""
    names = [c.key for c in ReferenceProfile.__table__.columns if c.key != "id"]
    stmt = dialect.insert(session, ReferenceProfile).values({n: getattr(row, n) for n in names})
    session.execute(stmt.on_conflict_do_nothing(index_elements=["fingerprint"]))


def _row(
    model: ModelConfig, fingerprint: str, descriptor: dict[str, Any], summary: ReferenceSummary
) -> ReferenceProfile:
    return ReferenceProfile(
        model=model.name,
        fingerprint=fingerprint,
        descriptor=descriptor | {"rows": {k: s.rows for k, s in summary.slices.items()}},
        rows=summary.rows,
        profiles=to_bytes(summary),
        metrics={k: s.metrics for k, s in summary.slices.items()},
        created_at=datetime.now(UTC),
    )
