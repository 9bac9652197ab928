"""Email through SMTP (``smtplib``), for teams without Slack: one thread per alert.

The first message about an alert gets a ``Message-ID`` made from the alert's stable key, so a
post repeated after a crash carries the same id and mail clients show one message; every
later message (acknowledged, recovered, resolved, reminders) answers it with ``In-Reply-To``
and ``References`` and keeps its subject, so it lands in the same thread (``events`` filters
those replies). An email cannot be edited, so ``update`` sends nothing: the reply queued
beside each edit says what changed.

SMTP answers classify like HTTP ones: 4xx (and a dropped connection) retry with back-off,
5xx (an unknown recipient, a refused login) is a permanent failure shown in status. With
``starttls`` (the default) the connection is encrypted before the login and the message, the
server's certificate checked against the system's CAs or ``ca_file``; a server that does not
offer STARTTLS, or whose certificate is not trusted, is a permanent failure, never a fall-back
to plain text.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING

from monitor.alerts.notify import DeliveryError, MessageRef, ThreadEvent
from monitor.notifiers.words import alert_key, alert_link, alert_text, event_text, public_event
from monitor.slack.render import title

if TYPE_CHECKING:
    from monitor.store.rows import AlertRow


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10
    ca_file: str | None = None  # trusted for STARTTLS instead of the system's CAs


class EmailNotifier:
    """Mails one list of recipients (one ``email:`` destination) through ``server``."""

    def __init__(
        self,
        *,
        server: SmtpServer,
        to: Sequence[str],
        public_url: str | None = None,
        events: Collection[str] | None = None,
    ) -> None:
        self.server = server
        self.to = list(to)
        self.public_url = public_url
        # The thread replies to send, by public event name (None: all of them).
        self.events = frozenset(events) if events is not None else None

    def post(self, alert: AlertRow, *, channel: str, mention: str | None) -> MessageRef:
        message = self._message(alert, alert_text(alert))
        message["Message-ID"] = self.message_id(alert_key(alert))
        self._send(message, channel)
        return MessageRef(channel=channel, ts=alert_key(alert))

    def update(self, alert: AlertRow, *, channel: str, ts: str) -> None:
        return None

    def reply(
        self, alert: AlertRow, *, channel: str, thread_ts: str, event: ThreadEvent, broadcast: bool
    ) -> MessageRef:
        if self.events is not None and public_event(event.kind) not in self.events:
            return MessageRef(channel=channel, ts=thread_ts)
        message = self._message(alert, event_text(event), reply=True)
        parent = self.message_id(thread_ts)
        message["In-Reply-To"] = parent
        message["References"] = parent
        self._send(message, channel)
        return MessageRef(channel=channel, ts=thread_ts)

    def message_id(self, key: str) -> str:
        domain = self.server.sender.rpartition("@")[2] or "monitor.invalid"
        return f"<{key}@{domain}>"

    def _message(self, alert: AlertRow, text: str, *, reply: bool = False) -> EmailMessage:
        message = EmailMessage()
        subject = f"[{alert.severity.upper()}] {title(alert)}"
        message["Subject"] = f"Re: {subject}" if reply else subject
        message["From"] = self.server.sender
        message["To"] = ", ".join(self.to)
        message["Date"] = formatdate(localtime=False)
        link = alert_link(alert, self.public_url)
        message.set_content(text + (f"\n\n{link}" if link else "") + "\n")
        return message

    def _send(self, message: EmailMessage, channel: str) -> None:
        server = self.server
        try:
            with smtplib.SMTP(server.host, server.port, timeout=server.timeout_s) as smtp:
                if server.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=server.ca_file))
                if server.username and server.password:
                    smtp.login(server.username, server.password)
                smtp.send_message(message)
        except smtplib.SMTPNotSupportedError as exc:
            # Never fall back to plain text (the password would travel in the clear).
            raise DeliveryError(
                f"email {channel}: {server.host}:{server.port} does not offer STARTTLS ({exc}); "
                "nothing sent (smtp.starttls: false only for a relay on a trusted network)",
                permanent=True,
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"email {channel}: the certificate of {server.host}:{server.port} is not trusted "
                f"({exc.verify_message}); smtp.ca_file names a private CA",
                permanent=True,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            answers = list(exc.recipients.values())
            said = "; ".join(f"{code} {_said(text)}" for code, text in answers)
            raise DeliveryError(
                f"email {channel}: recipients refused: {said}",
                permanent=all(code >= 500 for code, _ in answers),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"email {channel}: SMTP {exc.smtp_code} {_said(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"email {channel}: {type(exc).__name__}: {exc}") from None


def _said(answer: bytes | str) -> str:
    """The server's words in an SMTP answer (``5.1.1 no such user``), cut short; they name
    the recipient or the reason, never our credentials."""
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
    return " ".join(text.split())[:200]
