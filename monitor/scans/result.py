"""What a scan found, built once when the scan ends: a frozen report ready to store."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from checks.outcome import Outcome
from monitor.windows import Window

if TYPE_CHECKING:
    from monitor.alerts.store import Transition
    from monitor.scans.window_summary import SliceSummary


@dataclass(frozen=True)
class CheckRow:
    """One outcome to store, with its segment ("" = whole window) and severity if failed."""

    outcome: Outcome
    segment: str = ""
    severity: str | None = None


@dataclass(frozen=True)
class ScanReport:
    """Everything a scan found, ready to store with :func:`monitor.scans.store_scan`.

    Built once by :func:`monitor.scans.run_scan`; storing it and judging its alerts give a
    copy with ``kept_scan_id`` and ``alerts`` set (:func:`monitor.scans.service.scan_and_store`).
    """

    model: str
    window: Window
    performance_window: Window
    config_hash: str
    started_at: datetime
    finished_at: datetime
    status: str = "ok"
    error: str | None = None
    reference: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int | None] = field(default_factory=dict)
    model_versions: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    results: tuple[CheckRow, ...] = ()
    # Estimated performance of the live window and the realised values of the performance
    # window: {"estimated": {metric: {value, lower, upper, ...}}, "realised": {metric:
    # {value, labelled}}, "segments": {segment: {"estimated": ..., "realised": ...}}}
    # (monitor/scans/estimates.py), stored in performance_estimate.
    estimates: dict[str, Any] = field(default_factory=dict)
    # What the scan noticed about its data without failing on it, for the user to see.
    warnings: tuple[str, ...] = ()
    # Set when this run failed beside a stored scan of the window whose results were kept.
    kept_scan_id: int | None = None
    # Alert transitions this scan caused (set when it is stored and judged).
    alerts: tuple[Transition, ...] = ()

    @property
    def failed(self) -> list[CheckRow]:
        return [r for r in self.results if r.outcome.passed is False]


def too_few(outcome: Outcome, data: SliceSummary, min_rows: int) -> Outcome:
    """``outcome`` (its value kept) as insufficient data: the segment is below ``min_rows``."""
    why = f"insufficient data: segment {data.segment} has {data.rows} rows < min_rows {min_rows}"
    details = {**outcome.details, "rows": data.rows, "min_rows": min_rows}
    return dataclasses.replace(outcome, passed=None, threshold=None, reason=why, details=details)
