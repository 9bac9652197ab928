"""State database plumbing: engines, session factories, pool bounds and "cannot reach it" errors.

Nothing here runs at import time; callers build an engine from the configured URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import QueuePool

from monitor.dburl import engine_problem, sqlite_file
from monitor.errors import MonitorError
from monitor.redact import redact, url_secrets

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Keys are 32-bit INTEGER columns: a larger id is "not found", never a database error
# (PostgreSQL refuses to compare an int4 column with an out-of-range parameter).
MAX_ID = 2**31 - 1
#: the state DB cannot be reached, is missing, or has no free connection: a 503, exit code 2
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)


class StateDBError(MonitorError):
    """The state DB cannot be used; the message names it with the password hidden."""


def id_in_range(value: int) -> bool:
    """Whether ``value`` can be a row id at all (1 .. 2**31-1)."""
    return 1 <= value <= MAX_ID


class PoolSettings(Protocol):
    """A connection pool's bounds (the config's ``state_db_pool`` and ``sources.*.pool``)."""

    size: int
    max_overflow: int
    timeout: timedelta


def pool_options(url: str, pool: PoolSettings | None) -> dict[str, Any]:
    """``create_engine`` arguments for ``pool``, where the URL's dialect pools connections
    in a QueuePool (PostgreSQL, a SQLite file, most warehouses); none otherwise (SQLite in
    memory keeps one connection per thread and takes no bounds)."""
    if pool is None:
        return {}
    parsed = make_url(url)
    dialect: Any = parsed.get_dialect()  # the class; get_pool_class is DefaultDialect's
    if not issubclass(dialect.get_pool_class(parsed), QueuePool):
        return {}
    return {
        "pool_size": pool.size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.timeout.total_seconds(),
    }


def make_engine(url: str, *, pool: PoolSettings | None = None, **kwargs: Any) -> Engine:
    """Create an engine for the state DB; SQLite gets WAL mode, foreign keys and a busy timeout.

    ``pool`` bounds the connections (``monitor run`` passes ``state_db_pool``). A dialect or
    driver that is not installed is a :class:`StateDBError` saying what to write.
    """
    try:
        kwargs = {**pool_options(url, pool), **kwargs}
        if url.startswith("sqlite"):
            connect_args = kwargs.setdefault("connect_args", {})
            connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
            engine = create_engine(url, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        kwargs.setdefault("pool_pre_ping", True)
        psycopg = make_url(url).get_driver_name() == "psycopg"
        if psycopg:
            # no HSTORE column anywhere: skip the type lookup every first connect makes
            kwargs.setdefault("use_native_hstore", False)
        engine = create_engine(url, **kwargs)
        if psycopg:
            _version_from_handshake(engine.dialect)
        return engine
    except Exception as exc:  # the URL holds a password: describe, never echo
        raise StateDBError(f"state DB: {engine_problem(url, exc)}") from None


def _version_from_handshake(dialect: Any) -> None:
    """Take the server version the connection handshake reported (psycopg's
    ``info.server_version``) instead of asking ``select version()`` on the first connect: one
    round trip less for every short-lived command. The same tuple as the query's (16, 4)."""

    def server_version(connection: Any) -> tuple[int, ...]:
        number = connection.connection.dbapi_connection.info.server_version
        return (number // 10000, number % 10000)  # PostgreSQL 10 and later: major, minor

    dialect._get_server_version_info = server_version


def missing_directory(url: str) -> str | None:
    """The directory of a SQLite state DB file when it does not exist (SQLite creates the
    file on first connect, never its directory, and then only says "unable to open")."""
    path = sqlite_file(url)
    if path is None:
        return None
    parent = Path(path).parent
    return None if parent.is_dir() else str(parent)


@contextmanager
def state_db_errors(url: str) -> Iterator[None]:
    """Turn "cannot reach the state DB" inside the block into one :class:`StateDBError` line:
    ``state DB <url without password>: <the driver's first line>``."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise StateDBError(f"state DB {shown_url(url)}: {unavailable_reason(exc, url)}") from None


@contextmanager
def state_session(url: str) -> Iterator[Session]:
    """A session on the migrated state DB; an unmigrated one is an error saying what to run.

    A state DB that cannot be reached (now, or later inside the block) is a one-line
    ``StateDBError``, never a traceback.
    """
    with _state_engine(url) as engine, state_db_errors(url):
        _require_tables(engine)
        with make_sessionmaker(engine)() as session:
            yield session


@contextmanager
def state_connection(url: str) -> Iterator[Connection]:
    """A Core connection on the migrated state DB, in one transaction that is rolled back at
    the end, for commands that only read (``monitor status``, ``monitor alerts``): it needs no
    ORM, and PostgreSQL refuses writes in it. Errors as :func:`state_session`'s; a state DB
    without tables is told once a statement fails (:func:`_tables_required`)."""
    from monitor.dialect import read_only

    with _state_engine(url) as engine, state_db_errors(url), engine.connect() as conn:
        read_only(conn)
        with _tables_required(conn):
            yield conn


@contextmanager
def state_writer(url: str) -> Iterator[Connection]:
    """A Core connection on the migrated state DB for a command that writes a few rows without
    the ORM (``monitor ack``); the caller commits, anything uncommitted is rolled back at the
    end. Errors as :func:`state_connection`'s."""
    with (
        _state_engine(url) as engine,
        state_db_errors(url),
        engine.connect() as conn,
        _tables_required(conn),
    ):
        yield conn


@contextmanager
def _state_engine(url: str) -> Iterator[Engine]:
    """An engine on the state DB, disposed of at the end; a SQLite file that does not exist is
    an error saying what to run (connecting would create it empty)."""
    path = sqlite_file(url)
    if path is not None and not Path(path).exists():
        missing = missing_directory(url)
        first = f"create the directory {missing!r}, then " if missing else ""
        raise MonitorError(
            f"the state DB {path!r} does not exist yet: {first}run `monitor db upgrade`"
        )
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


NO_TABLES = "the state DB has no tables yet: run `monitor db upgrade`"


def _require_tables(bind: Engine | Connection) -> None:
    if not _migrated(bind):
        raise MonitorError(NO_TABLES)


def _migrated(bind: Engine | Connection) -> bool:
    """Whether the state DB has its tables (the catalog query)."""
    return inspect(bind).has_table("scan")


@contextmanager
def _tables_required(conn: Connection) -> Iterator[None]:
    """:func:`_require_tables` for the statements of the block on ``conn``, asked only once
    one of them has failed: the catalog query costs a short command 4-8 ms on PostgreSQL
    (SQLAlchemy compiles it afresh in each process), and every statement of a state DB
    without tables fails anyway. The failure stands when the tables are there."""
    try:
        yield
    except DBAPIError:
        if not _has_tables(conn):
            raise MonitorError(NO_TABLES) from None
        raise


def _has_tables(conn: Connection) -> bool:
    """Whether the state DB behind ``conn`` has its tables; True when it cannot tell (the
    connection is lost, say), so that the error already raised is the one reported."""
    try:
        conn.rollback()  # PostgreSQL refuses every statement after an error until then
        return _migrated(conn)
    except DBAPIError:
        return True


def shown_url(url: str) -> str:
    """``url`` with its password as ``***`` (config load refuses URLs this cannot hide)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unparsable URL)"


def unavailable_reason(exc: BaseException, url: str = "") -> str:
    """The first line of what the driver said, redacted; the class name when it said nothing."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    first = lines[0].strip() if lines else ""
    if isinstance(exc, PoolTimeoutError):
        first = "no free connection in the pool (" + first.split(",")[0] + ")"
    return redact(first or type(exc).__name__, url_secrets(url) if url else ())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Debian's and Ubuntu's SQLite zero every freed page (compiled-in secure_delete=ON): the
    # delete of a 1M-row window's summary (160 MB), which a rolling reference does every
    # scan, wrote 160 MB of zeros (0.3 s, then as much to checkpoint). FAST still clears
    # deleted rows inside the b-tree pages, not freed overflow pages; `VACUUM` rewrites the
    # file without them (docs/performance.md).
    cursor.execute("PRAGMA secure_delete=FAST")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker  # not imported by the commands that only read

    return sessionmaker(bind=engine, expire_on_commit=False)
