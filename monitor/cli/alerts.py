"""``monitor alerts|ack|unack|snooze|resolve|silence``: the alert workflow from a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from monitor.cli._common import config_option, load, state_session

if TYPE_CHECKING:
    from datetime import timedelta
    from typing import TextIO

    from monitor.store import Alert

STATE_HELP = "firing, recovered, acknowledged, resolved, open (default) or all."


def register(app: typer.Typer) -> None:
    app.command("alerts")(alerts)
    app.command("ack")(ack)
    app.command("unack")(unack)
    app.command("snooze")(snooze)
    app.command("resolve")(resolve)
    app.command("silence")(silence)


def alerts(
    state: str = typer.Option("open", "--state", help=STATE_HELP),
    model: str | None = typer.Option(None, "--model", help="Only this model's alerts."),
    as_json: bool = typer.Option(False, "--json", help="A JSON list of alerts."),
    config: str | None = config_option(),
) -> None:
    """List alerts (open ones by default), newest first."""
    import json

    from monitor.alerts.queries import alert_json, list_alerts

    settings = load(config)
    with state_session(settings.state_db) as session:
        rows = list_alerts(session=session, state=state, model=model)
        if as_json:
            typer.echo(json.dumps([alert_json(a).as_json() for a in rows], indent=2))
        elif not rows:
            typer.echo(f"no {state} alerts")
        else:
            typer.echo("\n".join(_table(rows)))


def ack(
    alert_id: int = typer.Argument(..., help="Alert id (see `monitor alerts`)."),
    by: str = typer.Option(..., "--by", help="Who acknowledges."),
    note: str | None = typer.Option(None, "--note", help="Why, or what is being done."),
    config: str | None = config_option(),
) -> None:
    """Acknowledge: reminders stop; a recovered alert is resolved."""
    _act("ack", alert_id, by, config, note=note)


def unack(
    alert_id: int = typer.Argument(...),
    by: str = typer.Option(..., "--by"),
    config: str | None = config_option(),
) -> None:
    """Take back an acknowledgement: the alert fires again (or is recovered if ok)."""
    _act("unack", alert_id, by, config)


def snooze(
    alert_id: int = typer.Argument(...),
    duration: str = typer.Option(..., "--for", help="How long, e.g. 4h (at most 7d)."),
    by: str = typer.Option(..., "--by"),
    config: str | None = config_option(),
) -> None:
    """Mute this alert's pings for a while; the message is still kept up to date."""
    _act("snooze", alert_id, by, config, duration=duration)


def resolve(
    alert_id: int = typer.Argument(...),
    by: str = typer.Option(..., "--by"),
    note: str | None = typer.Option(None, "--note"),
    config: str | None = config_option(),
) -> None:
    """Close an alert by hand; if the check still fails, the next scan opens a new one."""
    _act("resolve", alert_id, by, config, note=note)


def silence(
    model: str = typer.Argument(..., help="The model to silence."),
    duration: str = typer.Option(..., "--for", help="How long, e.g. 2h."),
    by: str = typer.Option(..., "--by"),
    reason: str = typer.Option("", "--reason", help="Maintenance, retraining, ..."),
    config: str | None = config_option(),
) -> None:
    """Silence a model: alerts still open and are stored, nothing is posted until it ends."""
    from datetime import UTC, datetime

    from monitor.alerts.actions import silence_model

    settings = load(config)
    settings.model(model)  # an unknown model is an error listing the known ones
    with state_session(settings.state_db) as session:
        made = silence_model(
            session=session,
            model=model,
            by=by,
            now=datetime.now(UTC),
            duration=_duration(duration),
            reason=reason,
        )
        session.commit()
        typer.echo(f"model {model} silenced until {made.ends_at:%Y-%m-%d %H:%M} UTC by {by}")


def _act(
    action: str,
    alert_id: int,
    by: str,
    config: str | None,
    *,
    note: str | None = None,
    duration: str | None = None,
) -> None:
    from datetime import UTC, datetime

    from monitor.alerts.actions import apply_action
    from monitor.alerts.queries import get_alert
    from monitor.alerts.tick import deliver_due
    from monitor.run.notifiers import build_notifier

    settings = load(config)
    with state_session(settings.state_db) as session:
        now = datetime.now(UTC)
        done = apply_action(
            session=session,
            action=action,
            alert_id=alert_id,
            by=by,
            now=now,
            note=note,
            duration=_duration(duration) if duration else None,
        )
        session.commit()
        typer.echo(f"{done.describe()} by {by}")
        # Edit the Slack message now rather than at the next tick.
        deliver_due(session, now=now, notifier=build_notifier(settings, out=_stderr()))
        typer.echo(_table([get_alert(session=session, alert_id=alert_id)])[0])


def _table(rows: list[Alert]) -> list[str]:
    """One aligned line per alert: id, state, severity, model, check, who, since, count, what."""
    cells = [
        [
            str(a.id),
            a.state,
            a.severity,
            a.model,
            a.check_id + (f" [{a.segment}]" if a.segment else ""),
            f"by {a.acked_by}" if a.acked_by else "",
            f"since {a.raised_at:%Y-%m-%d %H:%M}Z",
            f"x{a.occurrences}",
            a.summary or "",
        ]
        for a in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]) - 1)]
    lines = []
    for row in cells:
        padded = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        padded[0] = row[0].rjust(widths[0])
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return lines


def _duration(text: str) -> timedelta:
    from monitor.errors import MonitorError
    from monitor.windows import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise MonitorError(f"--for: {exc}") from None


def _stderr() -> TextIO:
    import sys

    return sys.stderr
