"""``notify:`` lists: where a model's alerts go, by severity and event.

One list at the top of the file (the default) and optionally one per model, which replaces it::

    notify:
      - slack: '#ml-alerts'
      - pagerduty: {routing_key: ${PD_ROUTING_KEY}}
        severities: [critical]
      - webhook: https://ci.example.com/hooks/retrain
        events: [raised, escalated]
        secret: ${HOOK_SECRET}
      - email: {to: [oncall@example.com]}

Each entry names one destination (``kind:name``, the name defaulting to the kind); the outbox
keeps one row stream per destination, so a failing PagerDuty never delays Slack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from monitor.config.types import Severity, Strict

KINDS = ("slack", "pagerduty", "webhook", "email")
#: what a destination can be told about (the alert's events); ``updated`` is an edit
Event = Literal[
    "raised",
    "updated",
    "escalated",
    "deescalated",
    "refired",
    "recovered",
    "acknowledged",
    "unacknowledged",
    "resolved",
    "reminder",
    "snoozed",
]
DEFAULT_EVENTS: tuple[Event, ...] = ("raised", "escalated", "recovered", "resolved")


class PagerDutyTarget(Strict):
    routing_key: SecretStr
    # Events API v2 base URL; only for a proxy (and the fake PagerDuty of the tests).
    api_url: str = "https://events.pagerduty.com"
    # The v3 webhook subscription's signing secret: PagerDuty acks and resolves come back.
    webhook_secret: SecretStr | None = None


class EmailTarget(Strict):
    to: list[str] = Field(min_length=1)


class NotifyEntry(Strict):
    """One destination of a ``notify:`` list; exactly one of its kind keys is given."""

    slack: str | None = None
    pagerduty: PagerDutyTarget | None = None
    webhook: str | None = None
    email: EmailTarget | None = None
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,60}$")
    severities: list[Severity] | None = None
    events: list[Event] | None = None
    secret: SecretStr | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> NotifyEntry:
        given = [kind for kind in KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(KINDS)} (got {given or 'none'})")
        if self.secret is not None and self.kind != "webhook":
            raise ValueError("secret: is for webhook entries")
        if self.events is not None and self.kind not in ("webhook", "email"):
            raise ValueError("events: is for webhook and email entries")
        if self.kind == "webhook" and self.secret is None:
            raise ValueError("a webhook needs secret: (its requests are signed with it)")
        return self

    @field_validator("webhook")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("a webhook is an http:// or https:// URL")
        return value

    @property
    def kind(self) -> str:
        return next(kind for kind in KINDS if getattr(self, kind) is not None)

    @property
    def destination(self) -> str:
        """The outbox channel of this entry: the Slack channel, else ``kind:name``."""
        if self.slack is not None:
            return self.slack
        return f"{self.kind}:{self.name or self.kind}"


class SmtpConfig(Strict):
    """The mail server email destinations send through."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(min_length=3)
    timeout_s: float = Field(default=10, gt=0)
    #: a PEM file of the CA(s) to trust for STARTTLS instead of the system's (a private CA)
    ca_file: str | None = None

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"no such file: {value}")
        return value


def notify_problems(lists: dict[str, list[NotifyEntry]], *, slack: bool, smtp: bool) -> list[str]:
    """Problems across every ``notify:`` list: a name denoting two destinations, a Slack
    entry without ``slack:``, email without ``smtp:``."""
    problems: list[str] = []
    seen: dict[str, NotifyEntry] = {}
    for where, entries in lists.items():
        slack_entries = [e for e in entries if e.slack is not None]
        if len(slack_entries) > 1:
            problems.append(f"{where}: at most one slack entry per list")
        for entry in entries:
            if entry.slack is not None and not slack:
                problems.append(f"{where}: slack entry {entry.slack!r} needs the slack: section")
            if entry.email is not None and not smtp:
                problems.append(f"{where}: email entries need the smtp: section")
            key = entry.destination
            if key in seen and seen[key] != entry and entry.slack is None:
                problems.append(
                    f"{where}: two different destinations are called {key!r}; give each a name:"
                )
            seen.setdefault(key, entry)
    return problems


def destinations(lists: list[list[NotifyEntry]]) -> dict[str, NotifyEntry]:
    """Every non-Slack destination of the config by its outbox channel."""
    return {e.destination: e for entries in lists for e in entries if e.slack is None}
