"""One engine per configured source, created on first use and disposed together."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from monitor import dialect
from monitor.config.schema import SourceConfig
from monitor.dburl import engine_problem, sqlite_file
from monitor.redact import url_secrets
from monitor.sources.errors import SourceError
from monitor.store import pool_options


class SourceEngines:
    """Engines for the named sources. Use as a context manager so pools are closed."""

    def __init__(self, sources: Mapping[str, SourceConfig]) -> None:
        self._sources = dict(sources)
        self._engines: dict[str, Engine] = {}

    def engine(self, name: str) -> Engine:
        if name not in self._engines:
            config = self._config(name)
            url = config.url.get_secret_value()
            path = sqlite_file(url)
            if path is not None and not Path(path).is_file():
                raise SourceError(f"source {name!r}: SQLite file {path!r} does not exist")
            try:
                pool = pool_options(url, config.pool)
                engine = create_engine(url, pool_pre_ping=True, **pool)
            except Exception as exc:  # the URL is a secret: report its problem, not its text
                raise SourceError(f"source {name!r}: {engine_problem(url, exc)}") from None
            limit_statements(engine, self._config(name).statement_timeout)
            self._engines[name] = engine
        return self._engines[name]

    def statement_timeout(self, name: str) -> timedelta | None:
        return self._config(name).statement_timeout

    def secrets(self) -> list[str]:
        """The sources' URLs and passwords, for :func:`monitor.redact.redact`."""
        return [s for c in self._sources.values() for s in url_secrets(c.url.get_secret_value())]

    def timezone(self, name: str) -> str:
        return self._config(name).timezone

    def parallel_reads(self, name: str) -> int:
        return self._config(name).parallel_reads

    def _config(self, name: str) -> SourceConfig:
        if name not in self._sources:
            raise SourceError(f"unknown source {name!r}; known: {', '.join(sorted(self._sources))}")
        return self._sources[name]

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()

    def __enter__(self) -> SourceEngines:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.dispose()


#: key of a source connection's ``info``: its statement timeout in milliseconds, for the
#: fast path's own connections (fastread) to carry the same limit
TIMEOUT_MS = "statement_timeout_ms"


def limit_statements(engine: Engine, timeout: timedelta | None) -> None:
    """Every connection of ``engine`` cancels a statement running longer than ``timeout``.

    PostgreSQL only (``statement_timeout``, set for the session and committed, so a
    rollback does not undo it); other dialects have no per-session equivalent that every
    driver honours, see docs/config.md.
    """
    if timeout is None:
        return
    milliseconds = max(1, int(timeout.total_seconds() * 1000))
    statement = dialect.statement_timeout(engine.dialect, milliseconds)
    if statement is None:
        return

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # An integer we computed: nothing from the config text reaches the SQL.
        cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()
        record.info[TIMEOUT_MS] = milliseconds

    event.listen(engine, "connect", on_connect)
