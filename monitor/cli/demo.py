"""``monitor demo``: the whole story on a laptop, no config and no services needed."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    directory: Path | None = typer.Option(
        None, "--dir", help="Where to put the demo's SQLite files (default: a new temp dir)."
    ),
) -> None:
    """Two weeks of generated logs with drift and an accuracy drop: scans, alerts, health."""
    import tempfile

    from monitor.demo.run import run_demo

    where = directory or Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    run_demo(where.resolve(), echo=typer.echo)
