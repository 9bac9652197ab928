"""Which notifier a config asks for, and the Socket Mode listener: the composition of the
alert layer with the notifiers above it.

The alert layer knows only the :class:`~monitor.alerts.notify.Notifier` protocol; the
notifiers (``monitor.slack``) implement it. This module is where the two meet, so neither
imports the other's direction the wrong way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from monitor.alerts.dispatch import SessionSource, deliver_due, unit
from monitor.alerts.notify import DeliveryError, MessageRef, Notifier, ThreadEvent
from monitor.alerts.policy import is_external
from monitor.config.notify import DEFAULT_EVENTS, NotifyEntry, SmtpConfig, destinations
from monitor.config.schema import Config
from monitor.slack.console import ConsoleNotifier

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor import views
    from monitor.notifiers.email import SmtpServer
    from monitor.notifiers.webhook import Context
    from monitor.store.rows import AlertRow


def build_notifier(
    config: Config, *, out: TextIO | None = None, sessions: SessionSource | None = None
) -> Notifier:
    """Slack when ``slack:`` is configured, else the console notifier (writing to ``out``),
    with each other destination of the ``notify:`` lists routed to its own notifier.
    ``sessions`` lets webhooks read the alert's latest scan and health into their body."""
    thread = _thread_notifier(config, out)
    others = destinations(list(config.notify_lists().values()))
    if not others:
        return thread
    context = _webhook_context(config, sessions) if sessions is not None else None
    built = {key: _notifier_for(entry, config, context) for key, entry in others.items()}
    return RoutedNotifier(thread, built)


def _thread_notifier(config: Config, out: TextIO | None) -> Notifier:
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


def _notifier_for(entry: NotifyEntry, config: Config, context: Context | None) -> Notifier:
    # Each notifier module is imported when the config routes to it: `monitor ack` on a
    # Slack-only config loads none of them (their HTTP and SMTP stacks cost ~25 modules).
    public_url = config.api.public_url
    if entry.pagerduty is not None:
        from monitor.notifiers.pagerduty import PagerDutyNotifier

        pd = entry.pagerduty
        return PagerDutyNotifier(
            routing_key=pd.routing_key.get_secret_value(), api_url=pd.api_url, public_url=public_url
        )
    if entry.webhook is not None:
        from monitor.notifiers.webhook import WebhookNotifier

        assert entry.secret is not None  # the config requires it
        return WebhookNotifier(
            url=entry.webhook,
            secret=entry.secret.get_secret_value(),
            events=entry.events or DEFAULT_EVENTS,
            context=context,
            public_url=public_url,
        )
    from monitor.notifiers.email import EmailNotifier

    assert entry.email is not None and config.smtp is not None  # the config requires both
    return EmailNotifier(
        server=smtp_server(config.smtp),
        to=entry.email.to,
        public_url=public_url,
        events=entry.events,
    )


def smtp_server(smtp: SmtpConfig) -> SmtpServer:
    from monitor.notifiers.email import SmtpServer

    password = smtp.password.get_secret_value() if smtp.password is not None else None
    return SmtpServer(
        host=smtp.host,
        port=smtp.port,
        sender=smtp.sender,
        starttls=smtp.starttls,
        username=smtp.username,
        password=password,
        timeout_s=smtp.timeout_s,
        ca_file=smtp.ca_file,
    )


class RoutedNotifier:
    """The thread's notifier (Slack or console) plus one notifier per other destination,
    chosen by the outbox row's channel (``pagerduty:oncall``)."""

    def __init__(self, thread: Notifier, others: Mapping[str, Notifier]) -> None:
        self.thread = thread
        self.others = dict(others)

    def post(self, alert: AlertRow, *, channel: str, mention: str | None) -> MessageRef:
        return self._for(channel).post(alert, channel=channel, mention=mention)

    def update(self, alert: AlertRow, *, channel: str, ts: str) -> None:
        self._for(channel).update(alert, channel=channel, ts=ts)

    def reply(
        self, alert: AlertRow, *, channel: str, thread_ts: str, event: ThreadEvent, broadcast: bool
    ) -> MessageRef:
        return self._for(channel).reply(
            alert, channel=channel, thread_ts=thread_ts, event=event, broadcast=broadcast
        )

    def _for(self, channel: str) -> Notifier:
        if not is_external(channel):
            return self.thread
        notifier = self.others.get(channel)
        if notifier is None:
            known = ", ".join(sorted(self.others)) or "none"
            raise DeliveryError(
                f"no destination {channel!r} in the notify: lists; known: {known}", permanent=True
            )
        return notifier


def _webhook_context(config: Config, sessions: SessionSource) -> Context:
    # the scan history and status modules load only for a config with a webhook destination
    from monitor.status.history import list_scans, scan_detail_json
    from monitor.status.report import model_status
    from monitor.views import AlertHealth

    def read(alert: AlertRow) -> tuple[views.ScanDetail | None, views.AlertHealth | None]:
        model = next((m for m in config.models if m.name == alert.model), None)
        with unit(sessions) as session:
            scans = list_scans(session=session, model=alert.model, limit=1)
            scan = scan_detail_json(scans[0]) if scans else None
            if model is None:
                return scan, None
            status = model_status(model, session=session, now=datetime.now(UTC))
            return scan, AlertHealth(health=status.health, reason=status.reason)

    return read


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
    from monitor.slack.interactions import ViewOpener, click_handler

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
