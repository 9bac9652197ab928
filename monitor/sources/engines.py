"""One engine per configured source, created on first use and disposed together."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from monitor.config.schema import SourceConfig
from monitor.dburl import engine_problem
from monitor.redact import url_secrets
from monitor.sources.errors import SourceError


class SourceEngines:
    """Engines for the named sources. Use as a context manager so pools are closed."""

    def __init__(self, sources: Mapping[str, SourceConfig]) -> None:
        self._sources = dict(sources)
        self._engines: dict[str, Engine] = {}

    def engine(self, name: str) -> Engine:
        if name not in self._engines:
            url = self._config(name).url.get_secret_value()
            _require_sqlite_file(name, url)
            try:
                self._engines[name] = create_engine(url, pool_pre_ping=True)
            except Exception as exc:  # the URL is a secret: report its problem, not its text
                raise SourceError(f"source {name!r}: {engine_problem(url, exc)}") from None
        return self._engines[name]

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


def _require_sqlite_file(name: str, url: str) -> None:
    """SQLite would create a missing file and then report missing tables; say what is wrong."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or Path(database).is_file():
        return
    raise SourceError(f"source {name!r}: SQLite file {database!r} does not exist")
