"""Errors of the alerting layer; each names the alert or model at fault."""

from __future__ import annotations

from monitor.errors import MonitorError


class AlertNotFoundError(MonitorError):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"alert {alert_id} does not exist")
        self.alert_id = alert_id


class AlertStateError(MonitorError):
    """The action does not apply to the alert's current state (e.g. ack of a resolved alert)."""

    def __init__(self, alert_id: int, message: str) -> None:
        super().__init__(f"alert {alert_id}: {message}")
        self.alert_id = alert_id


class AlertConflictError(AlertStateError):
    """Someone else changed the alert first (compare-and-set lost); the message says who."""


class InvalidActionError(MonitorError):
    """Bad input to an action: a snooze longer than 7 days, an empty actor, ..."""


class MaintenanceNotFoundError(MonitorError):
    def __init__(self, window_id: int) -> None:
        super().__init__(f"maintenance window {window_id} does not exist")
        self.window_id = window_id
