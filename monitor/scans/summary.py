"""The reference, summarised: column profiles and reference metrics, whole and per segment.

A fixed reference's summary is stored in ``reference_profile`` under its fingerprint, so
later scans read the summary instead of the rows. Profiles keep sorted values and counts, so
exact tests on the summary give the same answer as on the rows.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from monitor.config.schema import ModelConfig
from monitor.scans.columns import drift_types, segment_frames
from monitor.scans.performance import performance_metrics

if TYPE_CHECKING:
    import pandas as pd

    from checks.drift import ColumnProfile

WHOLE = ""
# Reference segments kept in the summary; live segments beyond these have no reference.
MAX_REFERENCE_SEGMENTS = 200


@dataclass
class Summary:
    """One slice of the reference (the whole window or one segment)."""

    rows: int
    profiles: dict[str, ColumnProfile]
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ReferenceSummary:
    slices: dict[str, Summary]

    @property
    def whole(self) -> Summary:
        return self.slices[WHOLE]

    @property
    def rows(self) -> int:
        return self.whole.rows

    def segment(self, value: str) -> Summary | None:
        return self.slices.get(value)


def summarise(model: ModelConfig, frame: pd.DataFrame) -> ReferenceSummary:
    """Profiles of every drift-checked column and the performance metrics of the reference."""
    slices = {WHOLE: _summarise_slice(model, frame)}
    for value, part in segment_frames(model, frame, limit=MAX_REFERENCE_SEGMENTS):
        slices[value] = _summarise_slice(model, part)
    return ReferenceSummary(slices)


def _summarise_slice(model: ModelConfig, frame: pd.DataFrame) -> Summary:
    from checks.drift import profile_column

    profiles = {
        column: profile_column(frame[column], column_type, column=column)
        for column, column_type in drift_types(model).items()
        if column in frame.columns
    }
    metrics = performance_metrics(model, frame) if model.target_column in frame.columns else {}
    return Summary(len(frame), profiles, metrics)


def to_bytes(summary: ReferenceSummary) -> bytes:
    """Length-prefixed entries ``segment \\x00 column -> profile bytes``; no pickle."""
    parts: list[bytes] = []
    for segment, part in summary.slices.items():
        for column, profile in part.profiles.items():
            key = f"{segment}\x00{column}".encode()
            blob = profile.to_bytes()
            parts.append(struct.pack("<II", len(key), len(blob)) + key + blob)
    return b"".join(parts)


def from_bytes(
    payload: bytes, rows: dict[str, int], metrics: dict[str, dict[str, Any]]
) -> ReferenceSummary:
    from checks.drift import ColumnProfile

    slices = {seg: Summary(n, {}, metrics.get(seg, {})) for seg, n in rows.items()}
    offset = 0
    while offset < len(payload):
        key_len, blob_len = struct.unpack_from("<II", payload, offset)
        offset += 8
        segment, column = payload[offset : offset + key_len].decode().split("\x00", 1)
        offset += key_len
        blob = payload[offset : offset + blob_len]
        offset += blob_len
        slices.setdefault(segment, Summary(0, {})).profiles[column] = ColumnProfile.from_bytes(blob)
    return ReferenceSummary(slices)
