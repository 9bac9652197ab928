"""``monitor report``: the Evidently drill-down report of one scan, as a standalone HTML file."""

from __future__ import annotations

from pathlib import Path

import typer

from monitor.cli._common import config_option, load, state_session
from monitor.errors import MonitorError


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
    from monitor.report import build_report

    target = Path(out)
    _check_target(target)  # before the slow part: reading the windows and running Evidently
    settings = load(config)
    settings.model(model)  # an unknown model is an error naming the known ones
    with state_session(settings.state_db) as session:
        page = build_report(settings, session=session, model=model, scan_id=scan, sample=sample)
    _write(target, page)
    typer.echo(f"wrote {target} ({len(page) // 1024} KiB)")


def _check_target(target: Path) -> None:
    if target.is_dir():
        raise MonitorError(f"--out {target} is a directory: give a file, e.g. {target}/report.html")
    if not target.parent.is_dir():
        raise MonitorError(f"--out {target}: the folder {target.parent} does not exist")


def _write(target: Path, page: str) -> None:
    """Through a ``.partial`` file renamed into place, so a report is whole or absent; the
    partial file goes whatever fails (a full disk, a directory created meanwhile)."""
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_text(page, encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise MonitorError(f"--out {target}: cannot write the report: {exc.strerror}") from None
