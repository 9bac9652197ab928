"""Signed webhooks: a versioned JSON body per alert event, for pipelines (retraining) to act on.

The body is :class:`monitor.views.WebhookBody` (schema version 1, docs/integrations.md): the
event, the alert, its model's latest scan with every check result, and the model's health.
Each request is signed the way Slack signs its own: ``X-Monitor-Timestamp`` (Unix seconds) and
``X-Monitor-Signature: v1=<hex HMAC-SHA256 of "v1:<timestamp>:<body>">``, so a receiver
checks both the sender and the freshness (:func:`verify`). ``X-Monitor-Delivery`` is the same
on every retry of one notification: receivers use it to act once.

Only the events a destination asks for (``events:``) are sent; others are settled without a
call, with an empty reference (so the alert's "retraining requested at" counts real calls).
Retries are the outbox's: a 5xx backs off, a 429 holds the destination for Retry-After,
another 4xx is a permanent failure shown in ``monitor status``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Literal

from monitor import views
from monitor.alerts.notify import MessageRef, ThreadEvent
from monitor.alerts.queries import alert_json
from monitor.notifiers.http import post_json
from monitor.notifiers.words import alert_key, dashboard_links, public_event
from monitor.store.rows import AlertRow
from monitor.windows import isoformat_z

SCHEMA_VERSION: Literal[1] = 1
TOLERANCE_S = 300
#: the alert's model's latest scan and health, read when the body is built
Context = Callable[[AlertRow], tuple[views.ScanDetail | None, views.AlertHealth | None]]


class WebhookNotifier:
    """POSTs signed JSON to one URL for the events it was asked for."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        events: Collection[str],
        context: Context | None = None,
        public_url: str | None = None,
        timeout: float = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.events = frozenset(events)
        self.context = context
        self.public_url = public_url
        self.timeout = timeout
        self.clock = clock

    def post(self, alert: AlertRow, *, channel: str, mention: str | None) -> MessageRef:
        return self._send(alert, channel, "raised", {})

    def update(self, alert: AlertRow, *, channel: str, ts: str) -> None:
        self._send(alert, channel, "updated", {"version": alert.version})

    def reply(
        self, alert: AlertRow, *, channel: str, thread_ts: str, event: ThreadEvent, broadcast: bool
    ) -> MessageRef:
        facts = {"kind": event.kind, **event.data}
        return self._send(alert, channel, public_event(event.kind), facts)

    def _send(
        self, alert: AlertRow, channel: str, event: str, facts: Mapping[str, object]
    ) -> MessageRef:
        delivery = _delivery_id(alert, event, facts)
        if event not in self.events:
            return MessageRef(channel=channel, ts="")
        body = self.body(alert, event, delivery)
        headers = sign(self.secret, body, timestamp=int(self.clock()))
        headers |= {"X-Monitor-Event": event, "X-Monitor-Delivery": delivery}
        post_json(self.url, body, who=f"webhook {channel}", headers=headers, timeout=self.timeout)
        return MessageRef(channel=channel, ts=delivery)

    def body(self, alert: AlertRow, event: str, delivery: str) -> bytes:
        scan, health = self.context(alert) if self.context is not None else (None, None)
        document = views.WebhookBody(
            schema_version=SCHEMA_VERSION,
            event=event,
            delivery=delivery,
            alert_key=alert_key(alert),
            sent_at=isoformat_z(datetime.fromtimestamp(self.clock(), UTC)),
            alert=alert_json(alert),
            scan=scan,
            health=health,
            links=dashboard_links(alert, self.public_url),
        )
        return json.dumps(document.as_json(), separators=(",", ":")).encode()


def sign(secret: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The signature headers of ``body`` sent at ``timestamp``."""
    message = f"v1:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return {"X-Monitor-Timestamp": str(timestamp), "X-Monitor-Signature": f"v1={digest}"}


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float,
    tolerance: int = TOLERANCE_S,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is within ``tolerance``."""
    lower = {k.lower(): v for k, v in headers.items()}
    stamp = lower.get("x-monitor-timestamp", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = sign(secret, body, timestamp=int(stamp))["X-Monitor-Signature"]
    return hmac.compare_digest(expected, lower.get("x-monitor-signature", ""))


def _delivery_id(alert: AlertRow, event: str, facts: Mapping[str, object]) -> str:
    """Stable across retries of one notification (its facts were fixed when it was queued)."""
    seed = json.dumps([alert_key(alert), event, facts], sort_keys=True, default=str)
    return hashlib.sha256(seed.encode()).hexdigest()[:32]
