"""``monitor alerts|ack|unack|snooze|resolve|silence|maintenance``: the alert workflow from a
terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from monitor.cli._common import (
    config_option,
    load,
    state_connection,
    state_session,
    state_writer,
)

if TYPE_CHECKING:
    from datetime import timedelta
    from typing import TextIO

    from sqlalchemy.orm import Session

    from monitor import views
    from monitor.config import Config
    from monitor.store.rows import AlertRow, Reader

STATE_HELP = "firing, recovered, acknowledged, resolved, open (default) or all."


def register(app: typer.Typer) -> None:
    group = typer.Typer(invoke_without_command=True, no_args_is_help=False)
    group.callback()(alerts)
    group.command("show")(show)
    app.add_typer(group, name="alerts")
    app.command("ack")(ack)
    app.command("unack")(unack)
    app.command("snooze")(snooze)
    app.command("resolve")(resolve)
    app.command("silence")(silence)
    app.command("maintenance")(maintenance)


def alerts(
    ctx: typer.Context,
    state: str = typer.Option("open", "--state", help=STATE_HELP),
    model: str | None = typer.Option(None, "--model", help="Only this model's alerts."),
    check: str | None = typer.Option(None, "--check", help="Only this check id's alerts."),
    segment: str | None = typer.Option(
        None, "--segment", help="Only this segment's alerts ('' for the whole window)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Raised at or after this data time (ISO date or time, UTC)."
    ),
    as_json: bool = typer.Option(False, "--json", help="A JSON list of alerts."),
    config: str | None = config_option(),
) -> None:
    """List alerts (open ones by default), newest first; `monitor alerts show ID` for one."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from monitor.alerts.queries import alert_json, list_alerts
    from monitor.cli._common import parse_time

    settings = load(config)
    with state_connection(settings.state_db) as conn:
        if model is not None:
            _require_model(settings, conn, model)
        rows = list_alerts(
            session=conn,
            state=state,
            model=model,
            check_id=check,
            segment=segment,
            since=parse_time(since, "--since"),
        )
        if as_json:
            typer.echo(json.dumps([alert_json(a).as_json() for a in rows], indent=2))
        elif not rows:
            asked = {"model": model, "check": check, "segment": segment, "since": since}
            where = "".join(f", {k} {v!r}" for k, v in asked.items() if v is not None)
            typer.echo(f"no alerts (state {state}{where})")
        else:
            typer.echo("\n".join(_table(rows)))


def show(
    alert_id: int = typer.Argument(..., help="Alert id (see `monitor alerts`)."),
    as_json: bool = typer.Option(False, "--json", help="The alert and its events as JSON."),
    config: str | None = config_option(),
) -> None:
    """One alert with its whole event history, oldest first."""
    import json

    from monitor.alerts.queries import detail_of, get_alert

    settings = load(config)
    with state_connection(settings.state_db) as conn:
        alert = get_alert(session=conn, alert_id=alert_id)
        detail = detail_of(session=conn, alert=alert)
        if as_json:
            typer.echo(json.dumps(detail.as_json(), indent=2))
            return
        typer.echo("\n".join(_table([alert])))
    for label, value in [
        ("recorded", _second(detail.recorded_at)),
        ("acknowledged", _by(detail.acked_by, _second(detail.acked_at), detail.ack_note)),
        ("resolved", _by(detail.resolved_by, _second(detail.resolved_at), _why(detail))),
        ("retraining requested", _second(detail.retraining_requested_at)),
    ]:
        if value:
            typer.echo(f"  {label}: {value}")
    if detail.segments:
        typer.echo(f"failing segments ({len(detail.segments)}), worst first:")
    for s in detail.segments:
        summary = s.summary.removesuffix(f" [{s.segment}]")
        typer.echo(f"  {s.segment:<16} {s.severity:<8} {summary}")
    typer.echo("events (data time; recorded at):")
    for e in detail.events:  # times to the second: a person's action carries microseconds
        at, recorded = _second(e.at), _second(e.recorded_at)
        arrow = f"{e.from_state or '-'} -> {e.to_state}"
        extra = "".join(f" · {x}" for x in (e.reason, e.note) if x)
        typer.echo(
            f"  {at}  {e.kind:<13} {arrow:<26} {e.severity:<8} by {e.actor}{extra}"
            + (f"  (recorded {recorded})" if recorded and recorded != at else "")
        )


def _why(detail: views.AlertDetail) -> str | None:
    reason = detail.resolve_reason
    return f"{reason}, {detail.resolution}" if reason and detail.resolution else reason


def _by(who: str | None, when: str | None, why: str | None) -> str | None:
    if who is None:
        return None
    return f"by {who} at {when}" + (f" ({why})" if why else "")


def ack(
    alert_ids: list[int] | None = typer.Argument(
        None, help="Alert ids (see `monitor alerts`); or --model M --all."
    ),
    by: str = typer.Option(..., "--by", help="Who acknowledges."),
    note: str | None = typer.Option(None, "--note", help="Why, or what is being done."),
    model: str | None = typer.Option(None, "--model", help="With --all: this model's alerts."),
    check: str | None = typer.Option(None, "--check", help="With --all: only this check id."),
    every: bool = typer.Option(
        False, "--all", help="Every unacknowledged (firing or recovered) alert of --model."
    ),
    config: str | None = config_option(),
) -> None:
    """Acknowledge: reminders stop; a recovered alert is resolved.

    Several ids are acknowledged one by one; one that cannot be (already acknowledged, not
    found) is reported and the others still are (exit code 2 if any failed).
    """
    from monitor.errors import MonitorError

    if every == bool(alert_ids):
        raise MonitorError("ack: give alert ids, or --model M [--check C] --all (not both)")
    if every and model is None:
        raise MonitorError("ack --all needs --model")
    if not every and (model or check):
        raise MonitorError("ack: --model and --check select alerts only with --all")
    ids = list(alert_ids or [])
    if every:
        assert model is not None
        ids = _unacknowledged(config, model, check)
        if not ids:
            scope = model + (f" {check}" if check else "")
            typer.echo(f"no unacknowledged alerts of {scope}")
            return
    _act_many("ack", ids, by, config, note=note)


def _unacknowledged(config: str | None, model: str, check: str | None) -> list[int]:
    from monitor.alerts.queries import list_alerts

    settings = load(config)
    with state_connection(settings.state_db) as conn:
        _require_model(settings, conn, model)
        rows = list_alerts(session=conn, state="open", model=model, check_id=check)
        return sorted(a.id for a in rows if a.state in ("firing", "recovered"))


def _require_model(settings: Config, session: Reader, name: str) -> None:
    """An unknown ``--model`` is an error naming it (a typo must not read as "no alerts").

    Known: the configured models and those the state DB has alerts or scans of (a model
    removed from the config keeps its alert history)."""
    from monitor.alerts.queries import seen_models
    from monitor.errors import ConfigError, did_you_mean

    configured = {m.name for m in settings.models}
    if name in configured:
        return
    known = configured | seen_models(session=session)
    if name not in known:
        hint = did_you_mean(name, known)
        listed = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"unknown model {name!r}{hint}; known: {listed}")


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
    reason: str | None = typer.Option(
        None, "--reason", help="What it was: fixed, expected or false_positive."
    ),
    note: str | None = typer.Option(None, "--note"),
    config: str | None = config_option(),
) -> None:
    """Close an alert by hand; if the check still fails, the next scan opens a new one."""
    _act("resolve", alert_id, by, config, note=note, resolution=reason)


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


def maintenance(
    model: str | None = typer.Argument(None, help="The model (to plan a window, or to list)."),
    start: str | None = typer.Option(None, "--from", help="Start (ISO time, UTC; default now)."),
    end: str | None = typer.Option(None, "--to", help="End (ISO time, UTC)."),
    duration: str | None = typer.Option(None, "--for", help="Or a length from --from, e.g. 2h."),
    reason: str = typer.Option("", "--reason", help="Retraining, a source migration, ..."),
    by: str | None = typer.Option(None, "--by", help="Who plans or cancels it."),
    listing: bool = typer.Option(False, "--list", help="List windows in force or planned."),
    past: bool = typer.Option(False, "--past", help="With --list: ended ones too."),
    cancel: int | None = typer.Option(None, "--cancel", help="End window ID now."),
    as_json: bool = typer.Option(False, "--json", help="With --list: JSON."),
    config: str | None = config_option(),
) -> None:
    """Plan a maintenance window: scans still run and store, notifications are held and
    summarised (one message per open alert) when it ends. Also --list and --cancel ID."""
    import json
    from datetime import UTC, datetime

    from monitor.alerts.maintenance import cancel_maintenance, list_maintenance, plan_maintenance
    from monitor.alerts.queries import maintenance_json
    from monitor.cli._common import parse_time
    from monitor.errors import MonitorError

    settings = load(config)
    now = datetime.now(UTC)
    with state_session(settings.state_db) as session:
        if listing:
            if model is not None:
                settings.model(model)
            rows = list_maintenance(session=session, now=now, model=model, past=past)
            shown = [maintenance_json(w, now=now) for w in rows]
            if as_json:
                typer.echo(json.dumps([w.as_json() for w in shown], indent=2))
            for w in [] if as_json else shown:
                typer.echo(_maintenance_line(w))
            if not rows and not as_json:
                typer.echo("no maintenance windows")
            return
        if by is None:
            raise MonitorError("maintenance: --by is required to plan or cancel a window")
        if cancel is not None:
            window = cancel_maintenance(session=session, window_id=cancel, by=by, now=now)
            session.commit()
            typer.echo(f"maintenance window {window.id} of {window.model} cancelled by {by}")
            return
        if model is None:
            raise MonitorError("maintenance: give MODEL --to TIME (or --for), --list or --cancel")
        settings.model(model)  # an unknown model is an error listing the known ones
        starts = parse_time(start, "--from") or now
        ends = parse_time(end, "--to") or (starts + _duration(duration) if duration else None)
        if ends is None:
            raise MonitorError("maintenance: give --to TIME or --for DURATION")
        window = plan_maintenance(
            session=session,
            model=model,
            starts_at=starts,
            ends_at=ends,
            by=by,
            reason=reason,
            now=now,
        )
        session.commit()
        typer.echo(_maintenance_line(maintenance_json(window, now=now)))


def _maintenance_line(w: views.Maintenance) -> str:
    from datetime import UTC, datetime

    from monitor.windows import isoformat_z

    if w.cancelled_by is not None:  # the planned times stay; the cancel is shown beside them
        state = f"cancelled at {_second(w.cancelled_at)} by {w.cancelled_by}, planned"
    elif w.active:
        state = "active"
    else:  # ISO 8601 UTC strings with a Z compare as times
        state = "planned" if w.starts_at > isoformat_z(datetime.now(UTC)) else "ended"
    why = f": {w.reason}" if w.reason else ""
    span = f"{_second(w.starts_at)} .. {_second(w.ends_at)}"
    return f"{w.id:>4}  {w.model}  {span}  {state}  by {w.created_by}{why}"


def _second(text: str | None) -> str | None:
    """An ISO 8601 UTC time of the JSON shapes, to the second, for terminal lines.

    Times a person sets (acknowledge, cancel, a window from now) carry the wall clock's
    microseconds, scan times do not; shown to the second, every time has one width."""
    from monitor.windows import isoformat_z, parse_instant

    return None if text is None else isoformat_z(parse_instant(text).replace(microsecond=0))


def _act(
    action: str,
    alert_id: int,
    by: str,
    config: str | None,
    *,
    note: str | None = None,
    duration: str | None = None,
    resolution: str | None = None,
) -> None:
    _act_many(action, [alert_id], by, config, note=note, duration=duration, resolution=resolution)


def _act_many(
    action: str,
    alert_ids: list[int],
    by: str,
    config: str | None,
    *,
    note: str | None = None,
    duration: str | None = None,
    resolution: str | None = None,
) -> None:
    from datetime import UTC, datetime

    from monitor.alerts.actions import apply_action
    from monitor.alerts.dispatch import deliver_due
    from monitor.alerts.queries import get_alert
    from monitor.errors import MonitorError
    from monitor.run.notifiers import build_notifier
    from monitor.store import make_sessionmaker

    settings = load(config)
    failed: list[str] = []
    done_ids: list[int] = []
    # Core, no ORM: the transition, its event and outbox rows, and their delivery
    with state_writer(settings.state_db) as session:
        now = datetime.now(UTC)
        for alert_id in alert_ids:
            try:
                done = apply_action(
                    session=session,
                    action=action,
                    alert_id=alert_id,
                    by=by,
                    now=now,
                    note=note,
                    duration=_duration(duration) if duration else None,
                    resolution=resolution,
                )
            except MonitorError as exc:
                if len(alert_ids) == 1:
                    raise
                session.rollback()
                failed.append(str(exc))
                continue
            session.commit()
            done_ids.append(alert_id)
            typer.echo(f"{done.describe()} by {by}")
        if done_ids:
            # Edit the Slack messages now rather than at the next tick.
            engine = session.engine

            def sessions() -> Session:
                # a webhook's body reads the alert's latest scan through an ORM session of
                # its own, made (and the ORM loaded) only if a webhook is delivered to
                return make_sessionmaker(engine)()

            notifier = build_notifier(settings, out=_stderr(), sessions=sessions)
            deliver_due(session, now=now, notifier=notifier)
            rows = [get_alert(session=session, alert_id=i) for i in done_ids]
            typer.echo("\n".join(_table(rows)))
    if failed:
        raise MonitorError("; ".join(failed))


#: the header of :func:`_table`; FIRED counts firings (the first, then each breach after a
#: recovery), not the scans that failed while it stayed open
HEADER = ["ID", "STATE", "SEVERITY", "MODEL", "CHECK", "ACKED BY", "SINCE (data time)", "FIRED"]


def _table(rows: list[AlertRow]) -> list[str]:
    """A header, then one aligned line per alert: id, state, severity, model, check, who
    acknowledged, since, how many times it fired, what."""
    cells = [[*HEADER, "SUMMARY"]] + [
        [
            str(a.id),
            a.state,
            a.severity,
            a.model,
            a.check_id + _where(a),
            a.acked_by or "",
            f"{a.raised_at:%Y-%m-%d %H:%M}Z",
            f"{a.occurrences}x",
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


def _where(alert: AlertRow) -> str:
    """`` [north]`` for a per-segment alert, `` [3 segments: north, ...]`` for a grouped one."""
    if alert.segment:
        return f" [{alert.segment}]"
    if not alert.segments:
        return ""
    names = ", ".join(s["segment"] for s in alert.segments[:3])
    more = ", ..." if len(alert.segments) > 3 else ""
    return f" [{len(alert.segments)} segments: {names}{more}]"


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
