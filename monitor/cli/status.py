"""``monitor status``: each model's health, last scan, performance, drift and actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from monitor.cli._common import config_option, load, state_connection

if TYPE_CHECKING:
    from monitor.views import StatusReport


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    model: str | None = typer.Argument(None, help="One model (default: all)."),
    as_json: bool = typer.Option(False, "--json", help="The status report as JSON."),
    output: str = typer.Option("text", "--format", help="text, json or markdown."),
    config: str | None = config_option(),
) -> None:
    """Show each model's health (green / yellow / red) and why."""
    from datetime import UTC, datetime

    from monitor.errors import MonitorError
    from monitor.status import status_report
    from monitor.status.render import render_markdown, render_text

    formats = ("text", "markdown", "json")
    if output not in formats:
        raise MonitorError(f"--format {output!r}: expected one of {', '.join(formats)}")

    settings = load(config)
    with state_connection(settings.state_db) as conn:
        report = status_report(
            settings, session=conn, now=datetime.now(UTC), models=[model] if model else None
        )
    if as_json or output == "json":
        typer.echo(_json(report))
    elif output == "markdown":
        typer.echo(render_markdown(report))
    else:
        typer.echo(render_text(report, colour=_colour()))


def _colour() -> bool:
    """ANSI colours on a terminal, unless NO_COLOR is set (no-color.org)."""
    import os
    import sys

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _json(report: StatusReport) -> str:
    import json

    return json.dumps(report.as_json(), indent=2)
