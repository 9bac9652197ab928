"""Run the state DB's Alembic migrations from code (``monitor db upgrade``, tests, demo)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import MonitorError
from monitor.store.engine import make_engine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

HEAD = "heads"
# Where an installed (non-editable) package finds the migrations, e.g. in the Docker image.
DIR_ENV = "MONITOR_MIGRATIONS"


def alembic_dir() -> Path:
    """The migrations: ``$MONITOR_MIGRATIONS`` if set, else ``alembic/`` beside the package.

    Beside the package works in a source checkout or an editable install; an installed
    wheel ships no migrations, so its deployment points the variable at a copy of them.
    """
    explicit = os.environ.get(DIR_ENV)
    folder = Path(explicit) if explicit else Path(__file__).resolve().parents[2] / "alembic"
    if not (folder / "env.py").is_file():
        hint = f"set {DIR_ENV} to the alembic/ folder of a source checkout"
        raise MonitorError(f"migrations not found at {folder}; {hint}")
    if not (folder.parent / "alembic.ini").is_file():
        raise MonitorError(f"migrations at {folder} lack {folder.parent / 'alembic.ini'}")
    return folder


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    folder = alembic_dir()
    cfg = AlembicConfig(str(folder.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(folder))
    # ConfigParser interpolation would choke on a '%' in a URL-encoded password.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = HEAD) -> None:
    """Bring the state DB at ``url`` to ``revision`` (default: the newest)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current(url: str) -> set[str]:
    """The revision ids the database is at (empty before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def heads() -> set[str]:
    """The newest revision ids in the migration scripts."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def history() -> list[str]:
    """Every revision id, newest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [script.revision for script in scripts.walk_revisions()]
