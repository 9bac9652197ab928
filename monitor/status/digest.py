"""The scheduled digest's text: every model's health report in one Slack message.

:mod:`monitor.slack.digest` posts it (``monitor run`` on ``slack.digest.schedule``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from monitor.errors import ConfigError
from monitor.status.render import retraining_line
from monitor.status.report import status_report

if TYPE_CHECKING:
    from monitor.config.schema import Config
    from monitor.views import StatusReport

EMOJI = {"red": ":red_circle:", "yellow": ":large_yellow_circle:", "green": ":large_green_circle:"}


def compose_digest(config: Config, *, session: Session, now: datetime) -> tuple[str, str]:
    """The digest's channel and text, read from the state DB (no Slack call)."""
    slack = config.slack
    if slack is None:
        raise ConfigError("the Slack digest needs a `slack:` section (token and channel)")
    channel = (slack.digest.channel if slack.digest else None) or slack.channel
    return channel, digest_text(status_report(config, session=session, now=now))


def digest_text(report: StatusReport) -> str:
    """Slack mrkdwn: a line per model (worst first), its last and next retraining when
    known, then its top action items."""
    order = {"red": 0, "yellow": 1, "green": 2}
    models = sorted(report.models, key=lambda m: (order.get(m.health, 3), m.name))
    counts = {h: sum(m.health == h for m in models) for h in order}
    summary = ", ".join(f"{n} {h}" for h, n in counts.items() if n)
    lines = [f"*Model health digest* ({report.generated_at}): {summary or 'no models'}"]
    for m in models:
        unacked = m.alerts.unacknowledged
        extra = f" · {unacked} unacknowledged alert(s)" if unacked else ""
        lines.append(f"{EMOJI.get(m.health, '')} *{m.name}*: {m.reason}{extra}")
        retraining = retraining_line(m)
        if retraining:
            lines.append(f"    {retraining}")
        if m.health != "green":
            lines += [f"    • {item}" for item in m.action_items[:3]]
    return "\n".join(lines)
