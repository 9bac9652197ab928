"""Which notifier a config asks for, and the Socket Mode listener: the composition of the
alert layer with the notifiers above it.

The alert layer knows only the :class:`~monitor.alerts.notify.Notifier` protocol; the
notifiers (``monitor.slack``) implement it. This module is where the two meet, so neither
imports the other's direction the wrong way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from sqlalchemy.orm import Session

from monitor.alerts.notify import Notifier
from monitor.alerts.tick import deliver_due
from monitor.config.schema import Config
from monitor.slack.console import ConsoleNotifier
from monitor.slack.interactions import ViewOpener, click_handler


def build_notifier(config: Config, *, out: TextIO | None = None) -> Notifier:
    """Slack when ``slack:`` is configured, else the console notifier (writing to ``out``)."""
    if config.slack is None:
        return ConsoleNotifier(out)
    # Imported here: slack_sdk adds about 0.25 s to start-up, for nothing without `slack:`.
    from monitor.slack import transport

    client = transport.make_client(
        config.slack.token.get_secret_value(), base_url=config.slack.api_url
    )
    return transport.SlackNotifier(
        client, interactive=interactive(config), public_url=config.api.public_url
    )


def interactive(config: Config) -> bool:
    """Buttons only where clicks can come back: ``/slack/actions`` (signing secret and a
    public URL) or Socket Mode (``slack.app_token``, started by :func:`start_socket_mode`)."""
    slack = config.slack
    if slack is None:
        return False
    return bool(slack.app_token or (slack.signing_secret and config.api.public_url))


def start_socket_mode(
    *, config: Config, sessions: Callable[[], Session], clock: Callable[[], datetime]
) -> Callable[[], None] | None:
    """With ``slack.app_token``: receive button clicks over Socket Mode until the returned
    function is called. None without an app token. ``monitor run`` starts it."""
    slack = config.slack
    if slack is None or slack.app_token is None:
        return None
    from monitor.slack import transport  # slack_sdk: see build_notifier

    notifier = build_notifier(config)
    handler = click_handler(
        sessions=sessions,
        clock=clock,
        deliver=lambda: deliver_due(sessions, now=clock(), notifier=notifier, clock=clock),
        respond=transport.respond_ephemeral,
        opener=notifier if isinstance(notifier, ViewOpener) else None,
    )
    client = transport.make_client(slack.token.get_secret_value())
    app_token = slack.app_token.get_secret_value()
    return transport.start_socket_mode(app_token=app_token, client=client, on_payload=handler)
