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

    cap = model.checks.drift.max_categories
    profiles = {
        column: profile_column(frame[column], column_type, column=column, max_categories=cap)
        for column, column_type in drift_types(model).items()
        if column in frame.columns
    }
    metrics = performance_metrics(model, frame) if model.target_column in frame.columns else {}
    return Summary(len(frame), profiles, metrics)


def to_bytes(summary: ReferenceSummary) -> bytes:
    """``SUMMARY_FORMAT``, then per profile ``<II`` key and blob lengths, the key
    ``segment \\x00 column`` padded to 8 bytes, and the profile's bytes (8-byte aligned, so
    its arrays are read in place). No pickle."""
    parts: list[bytes] = [SUMMARY_FORMAT]
    for segment, part in summary.slices.items():
        for column, profile in part.profiles.items():
            key = f"{segment}\x00{column}".encode()
            blob = profile.to_bytes()
            key += bytes(-(8 + len(key)) % 8)
            parts.append(struct.pack("<II", len(key), len(blob)) + key + blob)
    return b"".join(parts)


def from_bytes(
    payload: bytes, rows: dict[str, int], metrics: dict[str, dict[str, Any]]
) -> ReferenceSummary:
    """The summary :func:`to_bytes` wrote; its profiles' arrays are views on ``payload``."""
    from checks.drift import ColumnProfile

    slices = {seg: Summary(n, {}, metrics.get(seg, {})) for seg, n in rows.items()}
    view = memoryview(payload)
    # Summaries cached before SUMMARY_FORMAT have no marker and unpadded keys.
    offset = len(SUMMARY_FORMAT) if payload[: len(SUMMARY_FORMAT)] == SUMMARY_FORMAT else 0
    while offset < len(view):
        key_len, blob_len = struct.unpack_from("<II", view, offset)
        offset += 8
        key = bytes(view[offset : offset + key_len]).rstrip(b"\x00")
        segment, column = key.decode().split("\x00", 1)
        offset += key_len
        profile = ColumnProfile.from_bytes(view[offset : offset + blob_len])
        offset += blob_len
        slices.setdefault(segment, Summary(0, {})).profiles[column] = profile
    return ReferenceSummary(slices)


#: The first bytes of a summary written by :func:`to_bytes` (version 1).
SUMMARY_FORMAT = b"RSUM\x00\x00\x00\x01"
