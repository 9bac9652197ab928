"""``monitor report``: the Evidently drill-down report of one scan, as a standalone HTML file."""

from __future__ import annotations

import typer

from monitor.cli._common import config_option, load, state_session


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    model: str = typer.Argument(..., help="The model."),
    scan: int | None = typer.Option(None, "--scan", help="Scan id (default: the latest)."),
    out: str = typer.Option(..., "--out", "-o", help="The HTML file to write."),
    sample: int = typer.Option(5000, "--sample", min=100, help="Rows per side, at most."),
    config: str | None = config_option(),
) -> None:
    """Write the Evidently drill-down report of a scan (a bounded sample of its windows)."""
    from pathlib import Path

    from monitor.report import build_report

    settings = load(config)
    settings.model(model)  # an unknown model is an error naming the known ones
    with state_session(settings.state_db) as session:
        page = build_report(settings, session=session, model=model, scan_id=scan, sample=sample)
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(target)  # never leave a half-written report behind
    typer.echo(f"wrote {target} ({len(page) // 1024} KiB)")
