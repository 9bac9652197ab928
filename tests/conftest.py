"""Shared fixtures: a fresh real database per test, on SQLite and on PostgreSQL.

PostgreSQL comes from ``MONITOR_TEST_POSTGRES_URL`` (default: the local server with trust
auth). Where it cannot be reached the PostgreSQL half is skipped, except under CI (or with
``MONITOR_REQUIRE_POSTGRES=1``), where that is a failure: `.ci/run` also checks that the
PostgreSQL tests ran.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError

from monitor.store import make_engine

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]

# Hypothesis times each example (deadline) and its data generation (too_slow) on the wall
# clock, which a busy machine stretches: every example still runs, its speed is not judged.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


def _postgres_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("MONITOR_REQUIRE_POSTGRES"))


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the PostgreSQL server, used to create throwaway databases."""
    url = os.environ.get("MONITOR_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        where = make_url(url).render_as_string(hide_password=True)
        message = f"PostgreSQL not reachable at {where}: {exc.orig}"
        if _postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    yield engine
    engine.dispose()


def _fresh_postgres_database(admin: Engine) -> Iterator[URL]:
    name = f"mt_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test; parametrizes every test that uses a database."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh, empty database of the current backend, dropped after the test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    for url in _fresh_postgres_database(admin):
        yield url.render_as_string(hide_password=False)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the fresh database, configured as the service configures it."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
