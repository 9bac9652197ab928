"""``monitor config check``: validate the config and its tables, columns and files."""

from __future__ import annotations

import typer

from monitor.cli._common import config_option, load
from monitor.errors import ConfigError


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Check the configuration.", no_args_is_help=True)
    group.command("check")(check)
    app.add_typer(group, name="config")


def check(config: str | None = config_option()) -> None:
    """Validate the config file, then that every table, column and file it names exists."""
    from monitor.sources import SourceEngines
    from monitor.sources.validate import check_model

    settings = load(config)
    problems: list[str] = []
    with SourceEngines(settings.sources) as engines:
        for model in settings.models:
            problems += check_model(model, engines)
    if problems:
        raise ConfigError("\n".join(problems))
    typer.echo(f"config OK: {len(settings.models)} model(s), {len(settings.sources)} source(s)")
