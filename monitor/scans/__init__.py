"""Scans: one model, one window end -> a stored scan with its check results."""

from __future__ import annotations

from monitor.scans.plan import window_ends
from monitor.scans.result import CheckRow, ScanReport
from monitor.scans.run import run_scan
from monitor.scans.store import store_scan
from monitor.scans.text import scan_line

__all__ = ["CheckRow", "ScanReport", "run_scan", "scan_line", "store_scan", "window_ends"]
