"""Typed alert settings the lifecycle needs, independent of how the config file spells them.

The config layer builds these (``AlertPolicy`` per model, ``Routing`` from ``slack:``), so the
alert code never reads YAML and tests build them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

DEFAULT_REMIND_EVERY: Mapping[str, timedelta] = {
    "critical": timedelta(hours=4),
    "warning": timedelta(hours=24),
}
MAX_SNOOZE = timedelta(days=7)
# Flapping (monitor.alerts.flapping): Nagios's default marks a service flapping at a 20 %
# state change over its last 21 checks, i.e. about 4 changes in 20 windows.
DEFAULT_FLAP_THRESHOLD = 4
DEFAULT_FLAP_WINDOWS = 20


@dataclass(frozen=True)
class AlertPolicy:
    """Per-model alert settings (the model's ``alerts:`` section)."""

    raise_after: int = 1
    clear_after: int = 1
    remind_every: Mapping[str, timedelta | None] = field(
        default_factory=lambda: dict(DEFAULT_REMIND_EVERY)
    )
    channel: str | None = None
    runbook: str | None = None
    # Check ids that open one alert per segment (``segments: each``); the others open one
    # alert per check listing its failing segments.
    segment_alerts: frozenset[str] = frozenset()
    # ``flap_threshold`` flips (0: never flapping) within ``flap_window`` of data time mark
    # an alert flapping; no flip for ``flap_quiet`` ends it. Defaults: hourly windows.
    flap_threshold: int = DEFAULT_FLAP_THRESHOLD
    flap_window: timedelta = timedelta(hours=DEFAULT_FLAP_WINDOWS)
    flap_quiet: timedelta = timedelta(hours=DEFAULT_FLAP_WINDOWS // 2)
    # An unacknowledged critical still firing this long after it fired is paged again
    # (broadcast, with the mention); None: never.
    escalate_after: timedelta | None = None
    # An acknowledged alert still firing this long after the acknowledgement fires again
    # and is re-notified (PagerDuty's acknowledgement timeout); None: never.
    ack_timeout: timedelta | None = None

    def __post_init__(self) -> None:
        if self.raise_after < 1 or self.clear_after < 1:
            raise ValueError(
                f"raise_after and clear_after must be >= 1, got {self.raise_after}, "
                f"{self.clear_after}"
            )

    def reminder_interval(self, severity: str) -> timedelta | None:
        return self.remind_every.get(severity)


@dataclass(frozen=True)
class SeverityRoute:
    channel: str | None = None
    mention: str | None = None


def is_external(channel: str) -> bool:
    """Whether an outbox channel is a ``kind:name`` destination (PagerDuty, a webhook, email)
    rather than the Slack (or console) channel that holds the alert's thread."""
    return ":" in channel


@dataclass(frozen=True)
class Route:
    """One entry of a ``notify:`` list: a destination and the severities it takes (None: all)."""

    destination: str  # a Slack channel, or ``kind:name``
    severities: frozenset[str] | None = None

    def takes(self, severity: str) -> bool:
        return self.severities is None or severity in self.severities


@dataclass(frozen=True)
class Routing:
    """Where messages go.

    Without ``notify:`` lists: the severity channel, else the model's channel, else the
    default. With them (``routes``, per model, ``""`` for the default list): the list's
    entries that take the alert's severity; its Slack entry, if any, holds the thread.
    """

    default_channel: str = "#ml-alerts"
    severities: Mapping[str, SeverityRoute] = field(default_factory=dict)
    routes: Mapping[str, tuple[Route, ...]] = field(default_factory=dict)

    def post_channels(self, *, model: str, severity: str, model_channel: str | None) -> list[str]:
        """Every destination a new alert of ``model`` at ``severity`` is posted to."""
        routes = self.routes.get(model, self.routes.get(""))
        if routes is None:
            return [self.channel_for(severity=severity, model_channel=model_channel)]
        return [r.destination for r in routes if r.takes(severity)]

    def channel_for(self, *, severity: str, model_channel: str | None) -> str:
        route = self.severities.get(severity)
        if route is not None and route.channel:
            return route.channel
        return model_channel or self.default_channel

    def mention_for(self, severity: str) -> str | None:
        route = self.severities.get(severity)
        return route.mention if route is not None else None
