"""Helpers shared by the CLI modules: the -c option, config loading, state DB sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.config.schema import Config

CONFIG_HELP = "Config file (default: $MONITOR_CONFIG, then ./monitor.yaml)."
# The secrets of the config this process loaded: the `error:` line is redacted with them.
_SECRETS: list[str] = []


def config_option() -> str | None:
    return typer.Option(None, "--config", "-c", help=CONFIG_HELP)


def load(path: str | None) -> Config:
    from monitor.config import config_path, load_config
    from monitor.redact import config_secrets

    config = load_config(config_path(path))
    _SECRETS.extend(config_secrets(config))
    return config


def loaded_secrets() -> list[str]:
    """The secrets of every config loaded by this process so far."""
    return list(_SECRETS)


def parse_time(text: str | None, option: str) -> datetime | None:
    from monitor.windows import parse_instant

    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise MonitorError(f"{option}: {exc}") from None


@contextmanager
def state_session(url: str) -> Iterator[Session]:
    """A session on the migrated state DB; an unmigrated one is an error saying what to run.

    A state DB that cannot be reached (now, or later inside the block) is a one-line
    ``StateDBError``, never a traceback.
    """
    from sqlalchemy import inspect

    from monitor.store import make_engine, make_sessionmaker, state_db_errors

    _require_sqlite_file(url)
    engine = make_engine(url)
    try:
        with state_db_errors(url):
            if not inspect(engine).has_table("scan"):
                raise MonitorError("the state DB has no tables yet: run `monitor db upgrade`")
            with make_sessionmaker(engine)() as session:
                yield session
    finally:
        engine.dispose()


def _require_sqlite_file(url: str) -> None:
    """A SQLite state DB that does not exist is an error, not a new empty file."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database
    if not parsed.drivername.startswith("sqlite") or not path or path == ":memory:":
        return
    if path.startswith("file:") or Path(path).exists():
        return
    raise MonitorError(f"the state DB {path!r} does not exist yet: run `monitor db upgrade`")
