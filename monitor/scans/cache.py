"""The ``reference_profile`` cache: a fixed reference is read and summarised once; a rolling
(``previous``) one is usually the live window the scan before kept (:func:`plan_live_profile`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from monitor import dialect
from monitor.config.schema import ModelConfig, PreviousReference
from monitor.errors import MonitorError
from monitor.scans.calibration import Calibrations
from monitor.scans.fits import Fits
from monitor.scans.summary import (
    ReferenceSummary,
    from_bytes,
    summarise,
    summarise_columns,
    to_bytes,
)
from monitor.sources import ModelLog, ReferenceReader
from monitor.sources.reference import ReferenceSpec
from monitor.store import DriftCalibration, ReferencePayload, ReferenceProfile
from monitor.windows import Window

if TYPE_CHECKING:
    import pandas as pd

    from checks.drift import ColumnProfile


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
    model: ModelConfig,
    log: ModelLog,
    live: Window,
    *,
    session: Session,
    now: datetime | None = None,
) -> ReferencePlan:
    """Describe the reference and look up its cached summary (without loading it).

    A fixed reference whose contents were checked within its ``refresh`` reuses that profile
    without reading the source; otherwise its contents are fingerprinted (a COUNT over the
    period or table, a file's hash), and a profile with that fingerprint is reused and, for a
    fixed reference, marked checked at ``now`` (default: the wall clock).
    """
    now = now or datetime.now(UTC)
    reader = ReferenceReader(log)
    fresh = _fresh_profile(model, reader.identify(live), session=session, now=now)
    if fresh is not None:
        return ReferencePlan(model, live, reader, fresh[0], fresh[1])
    spec = reader.describe(live)
    cached_id = None
    if spec.fingerprint is not None:
        cached_id = session.scalar(
            select(ReferenceProfile.id).where(ReferenceProfile.fingerprint == spec.fingerprint)
        )
    # A rolling reference (no identity) is never looked up by its check time, so its profile
    # is not marked: on SQLite an UPDATE of any column rewrites the whole row, profile
    # included (0.3-1 s for the 160 MB of a 1M-row window), and writing no identity over a
    # fixed reference's with the same contents would make that one read its rows again.
    if cached_id is not None and spec.identity is not None:
        checked: dict[str, Any] = {"identity": spec.identity, "checked_at": now}
        if spec.stamp is not None:  # the file as it was when its hash was found unchanged
            where = ReferenceProfile.id == cached_id
            descriptor = session.scalar(select(ReferenceProfile.descriptor).where(where))
            checked["descriptor"] = dict(descriptor or {}) | {"stamp": spec.stamp}
        session.execute(
            update(ReferenceProfile).where(ReferenceProfile.id == cached_id).values(checked)
        )
    return ReferencePlan(model, live, reader, spec, cached_id)


def _fresh_profile(
    model: ModelConfig, spec: ReferenceSpec, *, session: Session, now: datetime
) -> tuple[ReferenceSpec, int] | None:
    """The spec and id of the newest profile of this reference whose contents were checked
    within its ``refresh``; ``None`` when the contents must be checked now. A file whose
    stamp (size, times, inode) is not the one recorded at its last check is checked now,
    whatever ``refresh`` says (but ``never``): looking costs no read of the file."""
    refresh = getattr(model.reference, "refresh", "always")
    if spec.identity is None or refresh == "always":
        return None
    query = select(
        ReferenceProfile.id, ReferenceProfile.fingerprint, ReferenceProfile.descriptor
    ).where(ReferenceProfile.identity == spec.identity)
    if isinstance(refresh, timedelta):
        query = query.where(ReferenceProfile.checked_at > now - refresh)
    row = session.execute(query.order_by(ReferenceProfile.checked_at.desc()).limit(1)).first()
    if row is None:
        return None
    if refresh != "never" and spec.stamp is not None and row.descriptor.get("stamp") != spec.stamp:
        return None
    return ReferenceSpec(spec.descriptor, row.fingerprint, spec.identity, spec.stamp), row.id


def load_reference(
    plan: ReferencePlan, *, session: Session
) -> tuple[ReferenceSummary, dict[str, Any]]:
    """The planned summary and its descriptor: the cached one, or summarised from the rows
    (and cached, when the reference is fixed; a rolling one is summarised every time)."""
    spec = plan.spec
    if plan.cached_id is not None:
        # the columns, not the entity: the session would hold the payload (which the
        # summary's values are views on) until the scan commits, after the checks are done
        stored = select(ReferenceProfile.descriptor, ReferenceProfile.metrics).where(
            ReferenceProfile.id == plan.cached_id
        )
        cached = session.execute(stored).one()
        payload = dialect.large_value(session, ReferencePayload.profiles, plan.cached_id)
        if payload is None:
            raise MonitorError(f"model {plan.model.name!r}: cached reference summary deleted")
        summary = from_bytes(payload, cached.descriptor["rows"], cached.metrics)
        del cached, payload
        summary.use_calibrations(_calibrations(session, spec.fingerprint))
        if plan.model.fitted:  # the rows are read only if a fit is not cached yet
            summary.fits = Fits(summary.calibrations, partial(plan.reader.load, plan.live))
        return summary, spec.descriptor | {"cached": True}
    summary, rows = _summarise(plan)
    _release_unused()
    # A fixed reference is stored; a rolling one read from its rows is not (the next window
    # has another period): the live window the scan keeps is what the next scan finds.
    if spec.fingerprint is not None and spec.identity is not None:
        row = _row(plan.model, spec, summary)
        # the stored form stands for the summary from here on, as a later scan reads it
        # (views on the stored bytes): the profiles it was made of are let go before the
        # database copies those bytes, not held beside them
        summary = from_bytes(row["profiles"], row["descriptor"]["rows"], row["metrics"])
        _remember(session, row)
        del row
        summary.use_calibrations(_calibrations(session, spec.fingerprint))
    if rows is not None:
        summary.fits = Fits(summary.calibrations, rows)  # Fits reads them once
    return summary, spec.descriptor | {"cached": False}


def _summarise(plan: ReferencePlan) -> tuple[ReferenceSummary, Callable[[], pd.DataFrame] | None]:
    """The reference's summary made from its rows, and how a fit gets the rows (``None``
    when the model fits nothing). A Parquet file is read a few columns at a time (a fit
    reads it again); other rows are read whole, and kept only for a fit: otherwise they
    are let go before the database copies the stored summary."""
    columns = plan.reader.file_columns()
    if columns is not None:
        summary = summarise_columns(plan.model, columns)
        again = partial(plan.reader.load, plan.live)
        return summary, again if plan.model.fitted else None
    frame = plan.reader.load(plan.live)
    summary = summarise(plan.model, frame)
    if not plan.model.fitted:
        return summary, None
    return summary, [frame].pop


def plan_live_profile(
    model: ModelConfig, log: ModelLog, live: Window, *, session: Session, with_target: bool
) -> ReferenceSpec | None:
    """The spec under which this scan's live window is kept as the next scan's reference.

    With ``reference: {previous: D}`` and ``window: D`` the next window's reference is this
    live window, which this scan reads anyway: its summary is stored (like a fixed
    reference's, Arrow IPC in ``reference_profile``) under the fingerprint of the window's
    contents, counted *before* the rows are read, so rows or labels that arrive later
    change the next scan's fingerprint and it reads the period again. ``None`` when the
    live rows cannot stand for the reference (another period length, a target read apart
    from the live rows: a labels join or a label delay) or that summary is already stored.
    """
    ref = model.reference
    if not isinstance(ref, PreviousReference) or ref.previous != model.window:
        return None
    if model.target is not None and not with_target:
        return None
    spec = ReferenceReader(log).period(live)
    stored = select(ReferenceProfile.id).where(ReferenceProfile.fingerprint == spec.fingerprint)
    return None if session.scalar(stored) is not None else spec


def remember_live_profile(
    model: ModelConfig,
    spec: ReferenceSpec,
    live: pd.DataFrame,
    *,
    session: Session,
    made: dict[str, ColumnProfile] | None = None,
    metrics: dict[str, dict[str, Any]] | None = None,
) -> Callable[[], None]:
    """Summarise the live window and encode its summary; the call returned stores it under
    ``spec`` (see :func:`plan_live_profile`) and drops this model's rolling summaries of
    periods before the live window's reference, which no later scan of a newer window asks
    for (with their calibrations). In two steps, so that the caller lets the rows go before
    the database copies the stored form (the peak of a scan that keeps its window).

    ``made`` and ``metrics``: what the scan's checks already made from these rows (the
    sorted numerical columns, the performance metrics), stored instead of made again
    (:func:`~monitor.scans.summary.summarise`). ``made`` is emptied once the summary is
    encoded."""
    row = _row(model, spec, summarise(model, live, made=made, metrics=metrics))
    if made is not None:
        made.clear()
    return partial(_store_live_profile, session, model, spec, row)


def _store_live_profile(
    session: Session, model: ModelConfig, spec: ReferenceSpec, row: dict[str, Any]
) -> None:
    _release_unused()
    _remember(session, row)
    del row
    end = spec.descriptor["start"]  # the live window's start: the current reference's end
    rows = session.execute(
        select(ReferenceProfile.id, ReferenceProfile.fingerprint, ReferenceProfile.descriptor)
        .where(ReferenceProfile.model == model.name)
        .where(ReferenceProfile.identity.is_(None))
    )
    old = {
        r.id: r.fingerprint
        for r in rows
        if r.descriptor.get("kind") == "previous" and _when(r.descriptor["end"]) < _when(end)
    }
    if old:
        # the payloads first: the foreign key cascades too, where the connection enforces it
        session.execute(delete(ReferencePayload).where(ReferencePayload.profile_id.in_(old)))
        session.execute(delete(ReferenceProfile).where(ReferenceProfile.id.in_(old)))
        gone = DriftCalibration.fingerprint.in_(old.values())
        session.execute(delete(DriftCalibration).where(gone))


def _release_unused() -> None:
    """Hand the memory of rows just let go back to the system: Arrow's allocator (which
    the reads go through) keeps freed pages for its own reuse, and the database's copies
    of a stored summary (SQLite's, psycopg's) are not made through it."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


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


def _remember(session: Session, row: dict[str, Any]) -> None:
    """Cache the summary. Another scan caching the same fingerprint first (a replica, or
    another model with the same reference on a worker thread of this process) is not an
    error: the same fingerprint means the same summary, theirs is as good as ours. One
    ``INSERT ... ON CONFLICT DO NOTHING`` in the scan's transaction, so a dry run's rollback
    takes it back too; the payload is an execution parameter, so that no statement or ORM
    object keeps a copy of it (:func:`~monitor.dialect.insert_large`). The payload goes in
    its own table (``reference_payload``), under the id of the row it belongs to."""
    profiles = row.pop("profiles")
    stmt = dialect.insert(session, ReferenceProfile.__table__)
    stmt = stmt.on_conflict_do_nothing(index_elements=["fingerprint"])
    profile_id = session.execute(stmt.returning(ReferenceProfile.id), row).scalar()
    if profile_id is None:  # stored first by another scan: the same summary
        return
    payload = dialect.insert(session, ReferencePayload.__table__)
    payload = payload.on_conflict_do_nothing(index_elements=["profile_id"])
    try:
        dialect.insert_large(
            session, payload, {"profile_id": profile_id, "profiles": profiles}, large="profiles"
        )
    except BaseException:
        if session.connection().dialect.name == "sqlite":
            # the transaction goes on after a failed blob write (its row is out again): the
            # summary's row goes too, so that whatever commits commits no summary without
            # its payload. On PostgreSQL the one failed INSERT aborted the transaction.
            session.execute(delete(ReferenceProfile).where(ReferenceProfile.id == profile_id))
        raise


def _row(model: ModelConfig, spec: ReferenceSpec, summary: ReferenceSummary) -> dict[str, Any]:
    """The ``reference_profile`` row of ``summary``, as the insert's parameters."""
    assert spec.fingerprint is not None
    now = datetime.now(UTC)
    return {
        "model": model.name,
        "fingerprint": spec.fingerprint,
        "identity": spec.identity,
        "checked_at": now,
        "descriptor": spec.descriptor
        | {"rows": {k: s.rows for k, s in summary.slices.items()}}
        | ({"stamp": spec.stamp} if spec.stamp is not None else {}),
        "rows": summary.rows,
        "profiles": to_bytes(summary),
        "metrics": {k: s.metrics for k, s in summary.slices.items()},
        "created_at": now,
    }
