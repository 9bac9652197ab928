"""Posting the scheduled digest: every model's health report in one Slack message.

``monitor run``'s scheduler calls :func:`post_digest` on ``slack.digest.schedule`` (a cron
in UTC), or composes the text (:mod:`monitor.status.digest`) in a session and sends it with
:func:`send_digest` once the session is closed. Delivery errors raise
:class:`monitor.alerts.notify.DeliveryError` (``permanent`` for a bad token or channel), so the
caller logs them; the next digest is a fresh report, so a missed one is not retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from monitor.errors import ConfigError
from monitor.slack.transport import make_client, post_text
from monitor.status.digest import compose_digest

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from monitor.alerts.notify import MessageRef
    from monitor.config.schema import Config


def post_digest(
    config: Config, *, session: Session, now: datetime, client: WebClient | None = None
) -> MessageRef:
    """Post the digest to ``slack.digest.channel`` (default ``slack.channel``).

    ``client`` defaults to one built from ``slack.token``; tests pass one aimed at a fake.
    """
    channel, text = compose_digest(config, session=session, now=now)
    return send_digest(config, channel=channel, text=text, client=client)


def send_digest(
    config: Config, *, channel: str, text: str, client: WebClient | None = None
) -> MessageRef:
    """Post a composed digest; call it with no database session open (Slack may be slow)."""
    slack = config.slack
    if slack is None:
        raise ConfigError("the Slack digest needs a `slack:` section (token and channel)")
    client = client or make_client(slack.token.get_secret_value(), base_url=slack.api_url)
    return post_text(client, channel=channel, text=text)
