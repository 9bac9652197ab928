"""Helpers shared by the CLI modules: the -c option, config loading, state DB sessions and
read-only connections.

Project modules are imported inside the helpers, as everywhere in ``monitor.cli``: they pull in
pydantic and SQLAlchemy, and `monitor --help` should not pay for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from monitor.config.schema import Config

CONFIG_HELP = "Config file (default: $MONITOR_CONFIG, then ./monitor.yaml)."


@contextmanager
def startup_imports() -> Iterator[None]:
    """A one-shot command's heavy imports, without the cyclic garbage collector.

    Imports build hundreds of thousands of long-lived objects (classes, functions, module
    dicts), and allocating them sets off some 300 collections that find no garbage (about
    0.2 CPU s of ``monitor scan``). Afterwards they are frozen out of the collector's
    later passes (:func:`gc.freeze`), which then only walk what the command itself makes.
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def config_option() -> str | None:
    option: str | None = typer.Option(None, "--config", "-c", help=CONFIG_HELP)
    return option


def load(path: str | None) -> Config:
    from monitor.config import open_config

    return open_config(path)


def loaded_secrets() -> list[str]:
    """The secrets of every config loaded by this process so far."""
    from monitor.redact import remembered

    return remembered()


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
    """See :func:`monitor.store.state_session`."""
    from monitor.store import state_session as session_on

    with session_on(url) as session:
        yield session


@contextmanager
def state_connection(url: str) -> Iterator[Connection]:
    """See :func:`monitor.store.state_connection`: for the commands that only read (no ORM)."""
    from monitor.store import state_connection as connection_on

    with connection_on(url) as conn:
        yield conn


@contextmanager
def state_writer(url: str) -> Iterator[Connection]:
    """See :func:`monitor.store.state_writer`: for the commands that write without the ORM."""
    from monitor.store import state_writer as writer_on

    with writer_on(url) as conn:
        yield conn
