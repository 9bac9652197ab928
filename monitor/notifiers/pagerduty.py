"""PagerDuty: Events API v2 out, v3 webhooks in.

One incident per alert: every event carries ``dedup_key`` = :func:`alert_key`, so a repeated
or retried event lands on the same incident. ``post`` triggers it; ``update`` mirrors the
alert's state (firing or recovered: trigger with the current facts; acknowledged:
acknowledge; resolved: resolve). Thread replies have no PagerDuty counterpart: the update
queued with each of them carries the change. Back the other way, an acknowledgement or a
resolution made in PagerDuty arrives as a signed v3 webhook (:func:`verify_signature`,
:func:`incident_change`) and is applied here like a click in Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.alerts.notify import MessageRef, ThreadEvent
from monitor.notifiers.http import post_json
from monitor.notifiers.words import alert_key, alert_text, dashboard_links

if TYPE_CHECKING:
    from monitor.store.rows import AlertRow

_ACTION = {"acknowledged": "acknowledge", "resolved": "resolve"}
_SEVERITY = {"critical": "critical", "warning": "warning"}
_INBOUND = {"incident.acknowledged": "acknowledge", "incident.resolved": "resolve"}


class PagerDutyNotifier:
    """Sends Events API v2 events for one routing key (one ``pagerduty:`` destination)."""

    def __init__(
        self,
        *,
        routing_key: str,
        api_url: str = "https://events.pagerduty.com",
        public_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        self.routing_key = routing_key
        self.api_url = api_url.rstrip("/")
        self.public_url = public_url
        self.timeout = timeout

    def post(self, alert: AlertRow, *, channel: str, mention: str | None) -> MessageRef:
        return self._send(alert, channel, "trigger")

    def update(self, alert: AlertRow, *, channel: str, ts: str) -> None:
        self._send(alert, channel, _ACTION.get(alert.state, "trigger"))

    def reply(
        self, alert: AlertRow, *, channel: str, thread_ts: str, event: ThreadEvent, broadcast: bool
    ) -> MessageRef:
        return MessageRef(channel=channel, ts=thread_ts)

    def _send(self, alert: AlertRow, channel: str, action: str) -> MessageRef:
        body = event_body(alert, action, routing_key=self.routing_key, public_url=self.public_url)
        who = f"PagerDuty ({channel})"
        post_json(f"{self.api_url}/v2/enqueue", body, who=who, timeout=self.timeout)
        return MessageRef(channel=channel, ts=alert_key(alert))


def event_body(alert: AlertRow, action: str, *, routing_key: str, public_url: str | None) -> bytes:
    """The Events API v2 request for ``action`` (trigger, acknowledge, resolve) on ``alert``."""
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": alert_key(alert),
    }
    if action == "trigger":
        links = dashboard_links(alert, public_url)
        event["payload"] = {
            "summary": alert_text(alert)[:1024],
            "source": alert.model,
            "severity": _SEVERITY.get(alert.severity, "error"),
            "component": alert.check_id,
            "group": alert.segment or None,
            "class": "model-health",
            "custom_details": _details(alert, links),
        }
        if links:
            event["links"] = [{"href": links[name], "text": text} for name, text in _LINKS]
    return json.dumps(event).encode()


_LINKS = (
    ("alert", "Alert on the monitor dashboard"),
    ("check", "Check value against its threshold"),
    ("model", "Model health report"),
)


def _details(alert: AlertRow, links: dict[str, str]) -> dict[str, Any]:
    return {
        "state": alert.state,
        "value": alert.value,
        "threshold": alert.threshold,
        "window_end": alert.last_breach_at.isoformat() if alert.last_breach_at else None,
        "raised_at": alert.raised_at.isoformat() if alert.raised_at else None,
        "occurrences": alert.occurrences,
        "segment": alert.segment or None,
        "runbook": alert.runbook,
        "dashboard": links.get("alert"),
        "chart": links.get("check"),
    }


def verify_signature(*, secrets: list[str], body: bytes, header: str | None) -> bool:
    """True if ``X-PagerDuty-Signature`` holds a ``v1=`` HMAC-SHA256 of ``body`` under one of
    ``secrets`` (PagerDuty lists several while a secret is being rotated)."""
    offered = [part.strip().removeprefix("v1=") for part in (header or "").split(",")]
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, sig) for sig in offered if sig):
            return True
    return False


@dataclass(frozen=True)
class IncidentChange:
    """What a PagerDuty webhook asks of one of our alerts."""

    action: str  # acknowledge | resolve
    dedup_key: str
    actor: str  # the PagerDuty user, e.g. "pagerduty:Alice Example"


def incident_change(payload: Mapping[str, Any]) -> IncidentChange | None:
    """The change a v3 webhook body asks for, or None for events we do not mirror."""
    event = payload.get("event")
    if not isinstance(event, Mapping):
        return None
    action = _INBOUND.get(str(event.get("event_type")))
    data = event.get("data")
    if action is None or not isinstance(data, Mapping):
        return None
    key = data.get("incident_key")
    agent = event.get("agent")
    who = agent.get("summary") if isinstance(agent, Mapping) else None
    if not isinstance(key, str):
        return None
    return IncidentChange(action, key, f"pagerduty:{who or 'unknown user'}")
