"""State DB tables of scans: scan, check_result, scan_attempt, reference_profile,
drift_calibration, performance_estimate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.store.base import WHOLE_WINDOW, Base, UTCDateTime, json_type

SCAN_STATUSES = ("ok", "failed", "no_data", "error")


class Scan(Base):
    """One evaluation of one model for one live window; unique on (model, window_end)."""

    __tablename__ = "scan"
    __table_args__ = (
        UniqueConstraint("model", "window_end"),
        CheckConstraint("status IN ('ok', 'failed', 'no_data', 'error')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    reference: Mapped[dict[str, Any]] = mapped_column(json_type())
    rows_reference: Mapped[int | None] = mapped_column(Integer)
    rows_live: Mapped[int | None] = mapped_column(Integer)
    rows_labelled: Mapped[int | None] = mapped_column(Integer)
    model_versions: Mapped[list[str]] = mapped_column(json_type(), default=list)
    config_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timings: Mapped[dict[str, float]] = mapped_column(json_type(), default=dict)
    # Observed values whether or not a threshold is configured (latency percentiles,
    # throughput, performance and its reference baseline), for the status report.
    metrics: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    # What the scan noticed about its data without failing on it (mixed timestamp
    # spellings, categories capped, an empty reference): shown with the scan, never hidden.
    warnings: Mapped[list[str] | None] = mapped_column(json_type())

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

    __tablename__ = "check_result"
    __table_args__ = (UniqueConstraint("scan_id", "check", "segment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scan.id", ondelete="CASCADE"), index=True)
    check: Mapped[str] = mapped_column(String(300))
    segment: Mapped[str] = mapped_column(String(300), default=WHOLE_WINDOW)
    method: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    severity: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)

    scan: Mapped[Scan] = relationship(back_populates="results")


class ScanAttempt(Base):
    """A scan run that ended in error where the window already had a stored scan with
    results: the error is kept here, beside that scan, instead of replacing its results
    (a broken config must never wipe good history)."""

    __tablename__ = "scan_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scan.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    error: Mapped[str] = mapped_column(Text)
    config_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReferenceProfile(Base):
    """A fixed reference, summarised once: per-column profiles and reference metrics."""

    __tablename__ = "reference_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    descriptor: Mapped[dict[str, Any]] = mapped_column(json_type())
    rows: Mapped[int] = mapped_column(Integer)
    profiles: Mapped[bytes] = mapped_column(LargeBinary)
    metrics: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: what the reference is without its contents (the fingerprint less the contents), and
    #: when its contents were last found unchanged: a scan within the model's
    #: ``reference.refresh`` of that time reuses the profile without checking them
    identity: Mapped[str | None] = mapped_column(String(64), index=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DriftCalibration(Base):
    """A calibrated drift threshold learnt on a fixed reference (monitor/scans/calibration.py):
    ``key`` names the segment, column, statistic, exact/binned, false-alarm rate and
    live-size bucket; ``calibration`` is ``Calibration.to_json_dict()``."""

    __tablename__ = "drift_calibration"
    __table_args__ = (UniqueConstraint("fingerprint", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(600))
    calibration: Mapped[dict[str, Any]] = mapped_column(json_type())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PerformanceEstimate(Base):
    """One estimated metric of one live window (CBPE, before its labels), and the realised
    value beside it once a later scan's performance window brings that window's labels.
    ``realised_at`` is the window end of that scan (data time). ``segment`` is "" for the
    whole window, else the segment value (a segmented model's per-segment estimates)."""

    __tablename__ = "performance_estimate"
    __table_args__ = (UniqueConstraint("model", "metric", "segment", "window_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    metric: Mapped[str] = mapped_column(String(100))
    segment: Mapped[str] = mapped_column(
        String(300), default=WHOLE_WINDOW, server_default=WHOLE_WINDOW
    )
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    estimated: Mapped[float | None] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    sampling_error: Mapped[float | None] = mapped_column(Float)
    rows: Mapped[int | None] = mapped_column(Integer)
    how: Mapped[str | None] = mapped_column(Text)
    realised: Mapped[float | None] = mapped_column(Float)
    labelled: Mapped[int | None] = mapped_column(Integer)
    realised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
