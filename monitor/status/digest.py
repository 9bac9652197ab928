"""The scheduled Slack digest: every model's health report in one message.

``monitor run``'s scheduler calls :func:`post_digest` on ``slack.digest.schedule`` (a cron
in UTC). Delivery errors raise :class:`monitor.alerts.notify.DeliveryError` (``permanent``
for a bad token or channel), so the caller logs them; the next digest is a fresh report,
so a missed one is not retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from monitor.errors import ConfigError
from monitor.status.report import status_report

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from monitor.alerts.notify import MessageRef
    from monitor.config.schema import Config
    from monitor.views import StatusReport

EMOJI = {"red": ":red_circle:", "yellow": ":large_yellow_circle:", "green": ":large_green_circle:"}


def post_digest(
    config: Config, *, session: Session, now: datetime, client: WebClient | None = None
) -> MessageRef:
    """Post the digest to ``slack.digest.channel`` (default ``slack.channel``).

    ``client`` defaults to one built from ``slack.token``; tests pass one aimed at a fake.
    """
    channel, text = compose_digest(config, session=session, now=now)
    return send_digest(config, channel=channel, text=text, client=client)


def compose_digest(config: Config, *, session: Session, now: datetime) -> tuple[str, str]:
    """The digest's channel and text, read from the state DB (no Slack call)."""
    slack = config.slack
    if slack is None:
        raise ConfigError("the Slack digest needs a `slack:` section (token and channel)")
    channel = (slack.digest.channel if slack.digest else None) or slack.channel
    return channel, digest_text(status_report(config, session=session, now=now))


def send_digest(
    config: Config, *, channel: str, text: str, client: WebClient | None = None
) -> MessageRef:
    """Post a composed digest; call it with no database session open (Slack may be slow)."""
    from monitor.slack.transport import make_client, post_text

    slack = config.slack
    if slack is None:
        raise ConfigError("the Slack digest needs a `slack:` section (token and channel)")
    client = client or make_client(slack.token.get_secret_value(), base_url=slack.api_url)
    return post_text(client, channel=channel, text=text)


def digest_text(report: StatusReport) -> str:
    """Slack mrkdwn: a line per model (worst first), then its top action items."""
    order = {"red": 0, "yellow": 1, "green": 2}
    models = sorted(report.models, key=lambda m: (order.get(m.health, 3), m.name))
    counts = {h: sum(m.health == h for m in models) for h in order}
    summary = ", ".join(f"{n} {h}" for h, n in counts.items() if n)
    lines = [f"*Model health digest* ({report.generated_at}): {summary or 'no models'}"]
    for m in models:
        unacked = m.alerts.unacknowledged
        extra = f" · {unacked} unacknowledged alert(s)" if unacked else ""
        lines.append(f"{EMOJI.get(m.health, '')} *{m.name}*: {m.reason}{extra}")
        if m.health != "green":
            lines += [f"    • {item}" for item in m.action_items[:3]]
    return "\n".join(lines)
