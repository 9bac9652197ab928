"""``monitor scan``: scan now, the window ending at --at, or every window in a range."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from monitor.cli._common import config_option, load, parse_time, startup_imports, state_session

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from monitor.config.schema import Config


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)


def scan(
    models: list[str] | None = typer.Argument(None, help="Models to scan (default: all)."),
    at: str | None = typer.Option(None, "--at", help="Scan the window ending at TIME."),
    start: str | None = typer.Option(None, "--from", help="Backfill every window from TIME..."),
    end: str | None = typer.Option(None, "--to", help="...to TIME (scheduled window ends)."),
    notify: str = typer.Option(
        "end",
        "--notify",
        help="With --from/--to: 'end' (default) notifies once at the end with each alert's "
        "final state; 'all' notifies every window's changes as they happen.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Store and send nothing."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per scan."),
    config: str | None = config_option(),
) -> None:
    """Scan models, store the results, move alerts, then deliver notifications (tick).

    Exit 1 when a scan ended in error."""
    with startup_imports():
        import json
        from datetime import UTC, datetime

        from monitor.errors import MonitorError
        from monitor.scans import scan_line, window_ends
        from monitor.scans.service import finish_backfill, scan_all
        from monitor.scans.store import jsonable
        from monitor.sources import SourceEngines

    if at and (start or end):
        raise MonitorError("give either --at or --from/--to, not both")
    if notify not in ("end", "all"):
        raise MonitorError(f"--notify: expected end or all, got {notify!r}")
    hold = bool(start or end) and notify == "end"
    settings = load(config)
    chosen = [settings.model(name) for name in models] if models else settings.models
    now = datetime.now(UTC)
    times = {"at": parse_time(at, "--at"), "start": parse_time(start, "--from")}
    times["end"] = parse_time(end, "--to")
    plan = [(m, t) for m in chosen for t in window_ends(m, now=now, **times)]
    errors = 0
    with state_session(settings.state_db) as session, SourceEngines(settings.sources) as engines:
        scans = scan_all(
            plan, config=settings, engines=engines, session=session, dry_run=dry_run, hold=hold
        )
        for report in scans:
            errors += report.status == "error"
            if as_json:
                typer.echo(json.dumps(jsonable(_as_dict(report))))
                continue
            typer.echo(scan_line(report))
            for transition in report.alerts:
                typer.echo(f"  {'would be ' if dry_run else ''}{transition.describe()}")
        if hold and not dry_run:
            done = finish_backfill(
                config=settings, models=chosen, session=session, now=datetime.now(UTC)
            )
            if not as_json:
                for transition in done:
                    typer.echo(f"  {transition.describe()}")
        if not dry_run:
            # A fresh clock: the notifications the scans just queued are due now, not later.
            _tick(settings, session, datetime.now(UTC), as_json=as_json)
    if dry_run and not as_json:
        typer.echo("dry run: nothing stored, nothing sent")
    if errors:
        raise typer.Exit(1)


def _tick(settings: Config, session: Session, now: datetime, *, as_json: bool) -> None:
    """The tick `monitor run` runs every minute, except scan retention: a backfill must not
    delete the old windows it has just stored.

    With --json, stdout carries only JSON: console notifications go to stderr."""
    import sys

    from monitor.run.notifiers import build_notifier
    from monitor.run.tick import tick

    notifier = build_notifier(settings, out=sys.stderr if as_json else None, sessions=session)
    tick(session, config=settings, now=now, notifier=notifier, prune_old_scans=False)


def _as_dict(report: object) -> dict[str, object]:
    from monitor.scans import ScanReport
    from monitor.windows import isoformat_z

    assert isinstance(report, ScanReport)
    return {
        "model": report.model,
        "window_start": isoformat_z(report.window.start),
        "window_end": isoformat_z(report.window.end),
        "status": report.status,
        "error": report.error,
        "kept_scan_id": report.kept_scan_id,
        "warnings": report.warnings,
        "rows": report.rows,
        "alerts": [t.describe() for t in report.alerts],
        "results": [
            {
                "check": r.outcome.check,
                "segment": r.segment,
                "method": r.outcome.method,
                "value": r.outcome.value,
                "threshold": r.outcome.threshold,
                "passed": r.outcome.passed,
                "severity": r.severity,
                "reason": r.outcome.reason,
            }
            for r in report.results
        ],
    }
