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
    state, problem = state_db_state(settings.state_db)
    if problem:
        problems.append(problem)
    with SourceEngines(settings.sources) as engines:
        for model in settings.models:
            problems += check_model(model, engines)
    if problems:
        raise ConfigError("\n".join(dict.fromkeys(problems)))  # each problem once
    typer.echo(f"config OK: {len(settings.models)} model(s), {len(settings.sources)} source(s)")
    typer.echo(state)


def state_db_state(url: str) -> tuple[str, str | None]:
    """A line on the state DB (reachable, migrated) and the problem that fails the check, if any.

    A state DB that does not exist yet, or is behind the migrations, is the normal first run
    (``monitor db upgrade`` creates / upgrades it): said, not failed. One that cannot be
    reached, or a SQLite file in a directory that does not exist, fails the check."""
    from pathlib import Path

    from monitor.dburl import sqlite_file
    from monitor.store import StateDBError, migrate, shown_url, state_db_errors
    from monitor.store.engine import missing_directory

    shown = shown_url(url)
    missing = missing_directory(url)
    if missing is not None:
        return "", (
            f"state_db: the directory {missing!r} of the SQLite file does not exist: create it "
            "(SQLite creates the file, not its directory)"
        )
    path = sqlite_file(url)
    if path is not None and not Path(path).exists():
        return f"state DB {shown}: not created yet: run `monitor db upgrade`", None
    try:
        with state_db_errors(url):
            at = migrate.current(url)
    except StateDBError as exc:
        return "", str(exc)
    if at == migrate.heads():
        return f"state DB {shown}: reachable, migrated ({', '.join(sorted(at))})", None
    return f"state DB {shown}: reachable, needs `monitor db upgrade`", None
