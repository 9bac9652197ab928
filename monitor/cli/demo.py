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
    run = run_demo(where.resolve(), echo=typer.echo)
    for line in next_steps(run.config_file):
        typer.echo(line)


def next_steps(config_file: Path) -> list[str]:
    """What to run after the demo: its config is not ./monitor.yaml, so every command needs -c."""
    c = f"-c {config_file}"
    return [
        "",
        "next, on this demo's state:",
        f"  monitor status {c}",
        f"  monitor alerts --state all {c}",
        f"  monitor run {c}    # scheduler + dashboard at http://127.0.0.1:8000/",
    ]
