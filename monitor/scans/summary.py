"""The reference, summarised: column profiles and reference metrics, whole and per segment.

A fixed reference's summary is stored in ``reference_profile`` under its fingerprint (as
Arrow IPC, monitor/store/profiles.py), so later scans read the summary instead of the rows.
Profiles keep sorted values and counts, so exact tests on the summary give the same answer
as on the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from checks.drift import ColumnProfile, profile_dataset
from monitor.config.schema import ModelConfig
from monitor.scans.calibration import Calibrations
from monitor.scans.columns import drift_types, segment_frames
from monitor.scans.fits import Fits
from monitor.scans.performance import performance_metrics
from monitor.store.profiles import decode, encode

if TYPE_CHECKING:
    import pandas as pd

WHOLE = ""
# Reference segments kept in the summary; live segments beyond these have no reference.
MAX_REFERENCE_SEGMENTS = 200


@dataclass
class Summary:
    """One slice of the reference (the whole window or one segment)."""

    rows: int
    profiles: dict[str, ColumnProfile]
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    # calibrated drift thresholds of the whole reference (shared by its slices; keyed by
    # segment), see monitor/scans/calibration.py
    calibrations: Calibrations = field(default_factory=Calibrations)


@dataclass
class ReferenceSummary:
    slices: dict[str, Summary]

    def __post_init__(self) -> None:
        self.use_calibrations(Calibrations())
        # estimated performance and multivariate drift (monitor/scans/fits.py), when asked
        self.fits: Fits | None = None

    def use_calibrations(self, calibrations: Calibrations) -> None:
        """Share one calibration cache between the slices (keys name the segment)."""
        self.calibrations = calibrations
        for part in self.slices.values():
            part.calibrations = calibrations

    @property
    def whole(self) -> Summary:
        return self.slices[WHOLE]

    @property
    def rows(self) -> int:
        return self.whole.rows

    def segment(self, value: str) -> Summary | None:
        return self.slices.get(value)


def summarise(
    model: ModelConfig,
    frame: pd.DataFrame,
    *,
    made: Mapping[str, ColumnProfile] | None = None,
    metrics: dict[str, dict[str, Any]] | None = None,
) -> ReferenceSummary:
    """Profiles of every drift-checked column and the performance metrics of the reference.

    ``made``: numerical profiles of the whole ``frame`` already made from these rows (by the
    checks of the scan that read them), and ``metrics``: its performance metrics already
    computed (:func:`~monitor.scans.performance.performance_metrics` of the same rows), used
    instead of sorting and computing them again; the summary is the same either way.
    """
    slices = {WHOLE: _summarise_slice(model, frame, made or {}, metrics)}
    for value, part in segment_frames(model, frame, limit=MAX_REFERENCE_SEGMENTS):
        slices[value] = _summarise_slice(model, part, {}, None)
    return ReferenceSummary(slices)


def _summarise_slice(
    model: ModelConfig,
    frame: pd.DataFrame,
    made: Mapping[str, ColumnProfile],
    metrics: dict[str, dict[str, Any]] | None,
) -> Summary:
    cap = model.checks.drift.max_categories
    types = {c: t for c, t in drift_types(model).items() if c in frame.columns}
    known = {c: made[c] for c, t in types.items() if t == "numerical" and c in made}
    left = {c: t for c, t in types.items() if c not in known}
    # in parallel: sorting a large reference's numerical columns is most of a cold scan's CPU
    found = profile_dataset(frame, left, max_categories=cap, side="reference")
    profiles = {c: known[c] if c in known else found[c] for c in types}
    if metrics is None:
        has_target = model.target_column in frame.columns
        metrics = performance_metrics(model, frame) if has_target else {}
    return Summary(len(frame), profiles, metrics)


def to_bytes(summary: ReferenceSummary) -> bytearray:
    """The summary's profiles in their stored form (monitor/store/profiles.py)."""
    return encode({segment: part.profiles for segment, part in summary.slices.items()})


def from_bytes(
    payload: bytes, rows: dict[str, int], metrics: dict[str, dict[str, Any]]
) -> ReferenceSummary:
    """The summary :func:`to_bytes` stored; its numerical values are views on ``payload``."""
    slices = {seg: Summary(n, {}, metrics.get(seg, {})) for seg, n in rows.items()}
    for segment, profiles in decode(payload).items():
        slices.setdefault(segment, Summary(0, {})).profiles.update(profiles)
    return ReferenceSummary(slices)
