"""Database URLs as users write them: what is wrong with one, and which URL to write instead.

A URL may hold a password, so no message here ever contains the URL or any part of it
except the dialect name. Two moments: :func:`url_problem` runs when the config is loaded
(no driver is imported), :func:`engine_problem` explains an error of ``create_engine``
(a dialect or driver that is not installed).
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

PERCENT_ENCODE = (
    "percent-encode the password: @ is %40, : is %3A, / is %2F, # is %23, % is %25 "
    "(Python: urllib.parse.quote(password, safe=''))"
)
POSTGRES = "postgresql+psycopg://user:password@host:5432/database"
SQLITE = "sqlite:///relative/path.db, or sqlite:////absolute/path.db"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+]*://")

# Dialect names that are always a mistake, with the URL to write instead.
_WRONG_DIALECTS = {
    "postgres": POSTGRES,
    "pg": POSTGRES,
    "pgsql": POSTGRES,
    "psql": POSTGRES,
    "postgre": POSTGRES,
    "sqlite3": SQLITE,
}
# Drivers that need a package we do not install, with the URL that works out of the box.
_DRIVER_HINTS = {
    "psycopg2": f"or write {POSTGRES} (psycopg 3 is installed with the monitor)",
    "asyncpg": f"the monitor is synchronous: write {POSTGRES}",
    "MySQLdb": "pip install mysqlclient, or pip install pymysql and write mysql+pymysql://...",
    "pyodbc": "pip install pyodbc, or pip install pymssql and write mssql+pymssql://...",
    "cx_Oracle": "pip install oracledb and write oracle+oracledb://...",
}
# Dialects that live in their own package.
_DIALECT_PACKAGES = {
    "snowflake": "snowflake-sqlalchemy",
    "bigquery": "sqlalchemy-bigquery",
    "trino": "trino[sqlalchemy]",
    "clickhouse": "clickhouse-sqlalchemy",
    "hive": "pyhive[hive]",
    "databricks": "databricks-sqlalchemy",
    "redshift": "sqlalchemy-redshift",
    "duckdb": "duckdb-engine",
}


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for other databases, memory and ``file:`` URIs.

    SQLite would create a missing file and then report missing tables: callers check the
    file first and say what is wrong (``monitor db upgrade`` for the state DB, the source's
    name for a source).
    """
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    return None if path.startswith("file:") else path


def url_problem(text: str) -> str | None:
    """What is wrong with ``text`` as a database URL, or None; never quotes the URL."""
    if text.lower().startswith("jdbc:"):
        return "a JDBC URL: drop the jdbc: prefix and name the driver, e.g. " + POSTGRES
    if not _SCHEME.match(text):
        return (
            "not a valid SQLAlchemy URL (dialect+driver://user:password@host/database; "
            f"for a SQLite file: {SQLITE})"
        )
    try:
        url = make_url(text)
    except ArgumentError:
        return "not a valid SQLAlchemy URL (dialect+driver://user:password@host/database)"
    except ValueError:
        # SQLAlchemy's int(port) failed: its message would quote what follows the last ':'
        # of the authority, which is the tail of a password holding an unencoded ':' and '@'.
        return f"the port is not a number; if the password holds ':' or '@', {PERCENT_ENCODE}"
    return _credentials_problem(url) or _dialect_problem(url)


def _credentials_problem(url: URL) -> str | None:
    """An unencoded ``@`` (or ``/``) in the password ends it early: the rest becomes the host,
    which then shows up in every connection error. Refuse it before anything connects."""
    if url.get_backend_name() == "sqlite":
        return None
    if "@" in (url.host or "") or (url.host and "@" in (url.database or "")):
        return f"the password holds an unencoded '@' or '/': {PERCENT_ENCODE}"
    return None


def _dialect_problem(url: URL) -> str | None:
    backend = url.get_backend_name()
    if backend in _WRONG_DIALECTS:
        return f"unknown dialect {backend!r}: write {_WRONG_DIALECTS[backend]}"
    if backend == "sqlite" and url.host:
        return f"a SQLite URL has no host: write {SQLITE}"
    return None


def engine_problem(url: str, exc: BaseException) -> str:
    """Why ``create_engine(url)`` raised ``exc``, with the URL or package that would work."""
    from sqlalchemy.exc import NoSuchModuleError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "not a valid SQLAlchemy URL (dialect+driver://user:password@host/database)"
    name = parsed.drivername
    if isinstance(exc, NoSuchModuleError):
        backend = parsed.get_backend_name()
        if backend in _WRONG_DIALECTS:
            return f"unknown dialect {backend!r}: write {_WRONG_DIALECTS[backend]}"
        package = _DIALECT_PACKAGES.get(backend)
        hint = f"pip install {package}" if package else "install the package that provides it"
        return f"no SQLAlchemy dialect {name!r} is installed: {hint}"
    if isinstance(exc, ImportError):
        module = (exc.name or "").split(".")[0] or "its driver"
        hint = _DRIVER_HINTS.get(module, f"pip install the package that provides {module}")
        return f"dialect {name!r} needs the driver module {module!r}, not installed: {hint}"
    return f"unusable URL for dialect {name!r} ({type(exc).__name__})"
