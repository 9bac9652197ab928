"""State DB tables of scans: scan, check_result, scan_attempt, reference_profile,
drift_calibration, performance_estimate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped, relationship

from monitor.store import tables
from monitor.store.base import WHOLE_WINDOW
from monitor.store.orm import Base


class Scan(Base):
    """One evaluation of one model for one live window; unique on (model, window_end)."""

    __table__ = tables.scan

    id: Mapped[int]
    model: Mapped[str]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    reference: Mapped[dict[str, Any]]
    rows_reference: Mapped[int | None]
    rows_live: Mapped[int | None]
    rows_labelled: Mapped[int | None]
    model_versions: Mapped[list[str]]
    config_hash: Mapped[str]
    status: Mapped[str]
    error: Mapped[str | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    timings: Mapped[dict[str, float]]
    # Observed values whether or not a threshold is configured (latency percentiles,
    # throughput, performance and its reference baseline), for the status report.
    metrics: Mapped[dict[str, Any]]
    # What the scan noticed about its data without failing on it (mixed timestamp
    # spellings, categories capped, an empty reference): shown with the scan, never hidden.
    warnings: Mapped[list[str] | None]

    results: Mapped[list[CheckResult]] = relationship(
        back_populates="scan",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CheckResult.id",
    )

    def result(self, check: str, segment: str = WHOLE_WINDOW) -> CheckResult | None:
        for row in self.results:
            if row.check == check and row.segment == segment:
                return row
        return None


class CheckResult(Base):
    """One check's outcome in one scan, for the whole window (segment "") or one segment."""

    __table__ = tables.check_result

    id: Mapped[int]
    scan_id: Mapped[int]
    check: Mapped[str]
    segment: Mapped[str]
    method: Mapped[str]
    value: Mapped[float | None]
    threshold: Mapped[float | None]
    passed: Mapped[bool | None]
    severity: Mapped[str | None]
    reason: Mapped[str | None]
    details: Mapped[dict[str, Any]]

    scan: Mapped[Scan] = relationship(back_populates="results")


class ScanAttempt(Base):
    """A scan run that ended in error where the window already had a stored scan with
    results: the error is kept here, beside that scan, instead of replacing its results
    (a broken config must never wipe good history)."""

    __table__ = tables.scan_attempt

    id: Mapped[int]
    scan_id: Mapped[int]
    model: Mapped[str]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    error: Mapped[str]
    config_hash: Mapped[str]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]


class ReferenceProfile(Base):
    """A fixed reference, summarised once: per-column profiles and reference metrics."""

    __table__ = tables.reference_profile

    id: Mapped[int]
    model: Mapped[str]
    fingerprint: Mapped[str]
    descriptor: Mapped[dict[str, Any]]
    rows: Mapped[int]
    metrics: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    #: what the reference is without its contents (the fingerprint less the contents), and
    #: when its contents were last found unchanged: a scan within the model's
    #: ``reference.refresh`` of that time reuses the profile without checking them
    identity: Mapped[str | None]
    checked_at: Mapped[datetime | None]


class ReferencePayload(Base):
    """The stored summary of a :class:`ReferenceProfile` (its id), Arrow IPC
    (monitor/store/profiles.py); deleted with it."""

    __table__ = tables.reference_payload

    profile_id: Mapped[int]
    profiles: Mapped[bytes]


class DriftCalibration(Base):
    """A calibrated drift threshold learnt on a fixed reference (monitor/scans/calibration.py):
    ``key`` names the segment, column, statistic, exact/binned, false-alarm rate and
    live-size bucket; ``calibration`` is ``Calibration.to_json_dict()``."""

    __table__ = tables.drift_calibration

    id: Mapped[int]
    fingerprint: Mapped[str]
    key: Mapped[str]
    calibration: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class PerformanceEstimate(Base):
    """One estimated metric of one live window (CBPE, before its labels), and the realised
    value beside it once a later scan's performance window brings that window's labels.
    ``realised_at`` is the window end of that scan (data time). ``segment`` is "" for the
    whole window, else the segment value (a segmented model's per-segment estimates)."""

    __table__ = tables.performance_estimate

    id: Mapped[int]
    model: Mapped[str]
    metric: Mapped[str]
    segment: Mapped[str]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    estimated: Mapped[float | None]
    lower: Mapped[float | None]
    upper: Mapped[float | None]
    sampling_error: Mapped[float | None]
    rows: Mapped[int | None]
    how: Mapped[str | None]
    realised: Mapped[float | None]
    labelled: Mapped[int | None]
    realised_at: Mapped[datetime | None]
