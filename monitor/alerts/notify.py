"""The notifier interface the dispatcher talks to (Slack, the console, ...), and its errors.

The alert layer records what happened as an event kind and its data (:class:`ThreadEvent`);
only a notifier turns that into words, in its own medium. Notifiers live above this layer
and implement :class:`Notifier`; nothing here imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from monitor.store.rows import AlertRow


@dataclass(frozen=True)
class MessageRef:
    """Where a message landed: channel id and timestamp, as Slack identifies messages."""

    channel: str
    ts: str


@dataclass(frozen=True)
class ThreadEvent:
    """What a thread reply is about: its kind (``reminder``, ``acknowledged``, ``refired``...)
    and the facts the message needs, as they were when it was queued."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)


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

    ``post`` and ``update`` render the alert as it is now, so retrying them is safe. ``reply``
    words ``event``. Every method raises :class:`DeliveryError` on failure, saying whether
    it is permanent and, when the receiver asked for it, how long to wait.
    """

    def post(self, alert: AlertRow, *, channel: str, mention: str | None) -> MessageRef: ...

    def update(self, alert: AlertRow, *, channel: str, ts: str) -> None: ...

    def reply(
        self, alert: AlertRow, *, channel: str, thread_ts: str, event: ThreadEvent, broadcast: bool
    ) -> MessageRef: ...
