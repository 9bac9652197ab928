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
    from sqlalchemy.engine import make_url

    from monitor import migrate

    settings = load(config)
    migrate.upgrade(settings.state_db)
    where = make_url(settings.state_db).render_as_string(hide_password=True)
    typer.echo(f"state DB at {where} is at {', '.join(sorted(migrate.current(settings.state_db)))}")
