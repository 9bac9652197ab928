"""What the non-Slack notifiers call events and how they word them.

The thread events the lifecycle records (``acknowledged_resolved``, ``snooze_ended``, ...)
collapse into the few public names a ``notify:`` entry can ask for (``events:``) and that a
webhook body carries. Plain text reuses Slack's wording without its emoji and link markup.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from monitor.alerts.notify import ThreadEvent
from monitor.slack.render import fallback_text, reply_text
from monitor.store.rows import AlertRow

_PUBLIC = {
    "acknowledged_resolved": "resolved",
    "recovered_after_ack": "resolved",
    "check_removed": "resolved",
    "snooze_ended": "reminder",
    "silence_ended": "reminder",
    "text": "updated",
}
_EMOJI = re.compile(r":[a-z0-9_+-]+: ?")
_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")


def public_event(kind: str) -> str:
    """The public name of a thread event kind (``acknowledged_resolved`` -> ``resolved``)."""
    return _PUBLIC.get(kind, kind)


def alert_key(alert: AlertRow) -> str:
    """The alert's stable key outside the service: the same for its whole life, and unique
    across models and checks (PagerDuty's dedup_key, the email thread's Message-ID)."""
    digest = hashlib.sha256(f"{alert.model}\0{alert.check_id}\0{alert.segment}".encode())
    return f"monitor-alert-{alert.id}-{digest.hexdigest()[:12]}"


def alert_id_of(key: str) -> int | None:
    """The alert id in a key made by :func:`alert_key`, or None for a key not ours."""
    match = re.fullmatch(r"monitor-alert-(\d+)-[0-9a-f]{12}", key or "")
    return int(match.group(1)) if match else None


def plain(text: str) -> str:
    """Slack mrkdwn as plain text: no ``:emoji:``, links as ``text (url)``."""
    return _LINK.sub(r"\2 (\1)", _EMOJI.sub("", text)).replace("*", "").strip()


def alert_text(alert: AlertRow) -> str:
    return plain(fallback_text(alert))


def event_text(event: ThreadEvent) -> str:
    return plain(reply_text(event))


def alert_link(alert: AlertRow, public_url: str | None) -> str | None:
    """The alert on the dashboard, when the service has a public URL."""
    return f"{public_url.rstrip('/')}/#/alerts/{alert.id}" if public_url else None


def dashboard_links(alert: AlertRow, public_url: str | None) -> dict[str, str]:
    """The alert, its check's chart (value against threshold) and its model's page on the
    dashboard, by name; empty without a public URL. Names are encoded as the dashboard's
    own links encode them (``drift:income`` -> ``drift%3Aincome``)."""
    if not public_url:
        return {}
    base = public_url.rstrip("/")
    model = f"{base}/#/models/{quote(alert.model, safe='')}"
    check = f"{model}/checks/{quote(alert.check_id, safe='')}"
    if alert.segment:
        check += f"?segment={quote(alert.segment, safe='')}"
    return {"alert": f"{base}/#/alerts/{alert.id}", "check": check, "model": model}
