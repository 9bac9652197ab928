"""A prediction-log source on SQLite, PostgreSQL or DuckDB, and a SQLite state DB beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _fresh_postgres_database

SOURCES = ["sqlite", "postgresql", "duckdb"]


@pytest.fixture(params=SOURCES)
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty source database of each kind warehouse mode is proven on."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'logs.db'}"
    elif request.param == "duckdb":
        pytest.importorskip("duckdb_engine")
        yield f"duckdb:///{tmp_path / 'logs.duckdb'}"
    else:
        admin = request.getfixturevalue("postgres_admin")
        for url in _fresh_postgres_database(admin):
            yield url.render_as_string(hide_password=False)
