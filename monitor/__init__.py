"""The monitoring service: config, state DB, sources, scans, alerts, Slack, scheduler, API, CLI."""

from __future__ import annotations

__version__ = "0.1.0"
