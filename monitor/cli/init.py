"""``monitor init``: write a commented example config."""

from __future__ import annotations

from pathlib import Path

import typer

from monitor.errors import MonitorError

EXAMPLE = Path(__file__).resolve().parent.parent / "monitor.example.yaml"


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    path: Path = typer.Argument(Path("monitor.yaml"), help="Where to write the config."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented example config to edit."""
    if path.exists() and not force:
        raise MonitorError(f"{path} exists; use --force to overwrite it")
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    typer.echo(f"wrote {path}; edit it, then run `monitor config check -c {path}`")
