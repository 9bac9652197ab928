"""What the service says about its models, read from the state DB.

- :mod:`.report`: each model's status report (``monitor status``, ``/api/models``);
- :mod:`.health`: the health colour and its one-line reason;
- :mod:`.text`: plain-language findings and action items;
- :mod:`.render`: the report as a terminal table and as Markdown;
- :mod:`.history`: stored scans, one scan with its results, one check over time;
- :mod:`.digest`: the scheduled Slack digest of every model's health.

The JSON shapes are the pydantic models of :mod:`monitor.views`. The report's entry points
are importable from the package itself.
"""

from __future__ import annotations

from monitor.status.report import interval, model_status, next_scan, status_report

__all__ = ["interval", "model_status", "next_scan", "status_report"]
