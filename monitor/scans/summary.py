"""The reference, summarised: column profiles and reference metrics, whole and per segment.

A fixed reference's summary is stored in ``reference_profile`` under its fingerprint (as
Arrow IPC, monitor/store/profiles.py), so later scans read the summary instead of the rows.
Profiles keep sorted values and counts, so exact tests on the summary give the same answer
as on the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from checks.drift import ColumnProfile, profile_dataset
from monitor.config.schema import ModelConfig
from monitor.scans.calibration import Calibrations
from monitor.scans.columns import drift_types, segment_frames, segment_positions
from monitor.scans.fits import Fits
from monitor.scans.performance import performance_metrics
from monitor.store.profiles import decode, encode

if TYPE_CHECKING:
    import pandas as pd

WHOLE = ""
# Reference segments kept in the summary; live segments beyond these have no reference.
MAX_REFERENCE_SEGMENTS = 200
#: columns :func:`summarise_columns` reads and profiles at once: enough to keep the cores
#: sorting in parallel, few enough that the batch is small beside the profiles
COLUMNS_AT_ONCE = 4


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


class Columns(Protocol):
    """A reference read a few columns at a time (``FileColumns``, monitor/sources/reference.py)."""

    #: the columns it has
    names: list[str]
    #: its rows
    rows: int

    def read(self, names: list[str]) -> pd.DataFrame:
        """Those columns of every row, as a whole read would have them."""


def summarise_columns(model: ModelConfig, source: Columns) -> ReferenceSummary:
    """:func:`summarise` of the rows of ``source``, reading and profiling a few columns at a
    time, so that the reference's rows are never in memory whole beside their profiles:
    the same summary (and the same bytes stored, :func:`to_bytes`)."""
    segments = {}
    if model.segment is not None and model.segment in source.names:
        keys = source.read([model.segment])
        segments = dict(segment_positions(model, keys, limit=MAX_REFERENCE_SEGMENTS))
        del keys
    outputs = _outputs(model, source)
    slices = {WHOLE: Summary(source.rows, {}, _metrics(model, outputs))}
    for value, at in segments.items():
        part = None if outputs is None else outputs.iloc[at]
        slices[value] = Summary(at.size, {}, _metrics(model, part))
    del outputs
    cap = model.checks.drift.max_categories
    types = {c: t for c, t in drift_types(model).items() if c in source.names}
    names = list(types)
    for start in range(0, len(names), COLUMNS_AT_ONCE):
        batch = {c: types[c] for c in names[start : start + COLUMNS_AT_ONCE]}
        frame = source.read(list(batch))
        found = profile_dataset(frame, batch, max_categories=cap, side="reference")
        slices[WHOLE].profiles.update(found)
        for value, at in segments.items():
            part = frame.iloc[at]
            found = profile_dataset(part, batch, max_categories=cap, side="reference")
            slices[value].profiles.update(found)
        del frame
    return ReferenceSummary(slices)


def _outputs(model: ModelConfig, source: Columns) -> pd.DataFrame | None:
    """The columns :func:`~monitor.scans.performance.metric_inputs` reads, if the target
    is one of them (a reference without labels has no performance metrics)."""
    if model.target_column not in source.names:
        return None
    wanted = (model.target_column, model.prediction, model.score, model.latency)
    return source.read([c for c in dict.fromkeys(wanted) if c and c in source.names])


def _metrics(model: ModelConfig, frame: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    return {} if frame is None else performance_metrics(model, frame)


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
