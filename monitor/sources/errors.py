"""Errors of the prediction-log sources; each names the model, table, column or file at fault."""

from __future__ import annotations

from monitor.errors import MonitorError


class SourceError(MonitorError):
    """A source, table, column, query or reference file that cannot be used as configured."""
