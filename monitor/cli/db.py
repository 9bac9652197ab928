"""``monitor db upgrade``: create or migrate the state DB's tables."""

from __future__ import annotations

import typer

from monitor.cli._common import config_option, load


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Manage the state database.", no_args_is_help=True)
    group.command("upgrade")(upgrade)
    app.add_typer(group, name="db")


def upgrade(config: str | None = config_option()) -> None:
    """Apply the Alembic migrations to the configured state_db."""
    from monitor.store import StateDBError, migrate, shown_url, state_db_errors
    from monitor.store.engine import missing_directory

    settings = load(config)
    missing = missing_directory(settings.state_db)
    if missing is not None:
        raise StateDBError(
            f"state DB: the directory {missing!r} of the SQLite file does not exist: create it "
            "(SQLite creates the file, not its directory)"
        )
    with state_db_errors(settings.state_db):
        migrate.upgrade(settings.state_db)
        revisions = ", ".join(sorted(migrate.current(settings.state_db)))
    typer.echo(f"state DB at {shown_url(settings.state_db)} is at {revisions}")
