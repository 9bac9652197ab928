"""The notifier interface the dispatcher talks to (Slack or the console), and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from monitor.store import Alert


@dataclass(frozen=True)
class MessageRef:
    """Where a message landed: channel id and timestamp, as Slack identifies messages."""

    channel: str
    ts: str


class DeliveryError(Exception):
    """A notifier call failed. ``permanent``: retrying cannot help (bad channel, bad token).

    ``retry_after`` (seconds) is set when the receiver asked us to wait (Slack 429).
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Notifier(Protocol):
    """Posts an alert's parent message, re-renders it, and replies in its thread.

    ``post`` and ``update`` render the alert as it is now, so retrying them is safe.
    """

    def post(self, alert: Alert, *, channel: str, mention: str | None) -> MessageRef: ...

    def update(self, alert: Alert, *, channel: str, ts: str) -> None: ...

    def reply(
        self, alert: Alert, *, channel: str, thread_ts: str, text: str, broadcast: bool
    ) -> MessageRef: ...
