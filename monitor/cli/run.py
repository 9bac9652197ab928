"""``monitor run``: the long-running service (scheduler, tick, HTTP API)."""

from __future__ import annotations

import typer

from monitor.cli._common import config_option, load


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    no_api: bool = typer.Option(
        False, "--no-api", help="Serve only /healthz, /readyz and /metrics."
    ),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="Run no scans and no tick (an API-only replica)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    config: str | None = config_option(),
) -> None:
    """Scan every model on its schedule, tick every minute and serve the HTTP API.

    Stops cleanly on SIGTERM or SIGINT; reloads the config on SIGHUP."""
    from monitor.errors import MonitorError
    from monitor.run.process import RunOptions, serve

    if no_api and no_scheduler:
        raise MonitorError("--no-api and --no-scheduler together leave nothing to run")
    settings = load(config)
    options = RunOptions(
        config_path=config, api=not no_api, scheduler=not no_scheduler, host=host, port=port
    )
    code = serve(options, settings)
    if code:
        raise typer.Exit(code)
