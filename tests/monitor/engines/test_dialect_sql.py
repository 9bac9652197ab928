"""What monitor/dialect.py writes for each warehouse: compiled with the dialect's own
SQLAlchemy compiler where its package is installed, else with a stub dialect of that name
(the ``@compiles`` functions choose by name). Executed on SQLite, PostgreSQL and DuckDB in
tests/monitor/perf/test_warehouse.py and on Spark in test_spark.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.default import DefaultDialect

from monitor import dialect
from monitor.sources.bounds import bound

ROWS = sa.table("preds", sa.column("x", sa.Float())).select().subquery("w")


def _dialect(name: str) -> Dialect:
    """The installed dialect ``name``, or a default dialect that says it is ``name``."""
    try:
        return sa.dialects.registry.load(name)()  # type: ignore[no-any-return]
    except Exception:  # not installed here: the compile rule is by name
        stub = type(f"Stub_{name}", (DefaultDialect,), {"name": name})
        return stub()  # type: ignore[no-any-return]


def _sql(name: str, statement: sa.ClauseElement) -> str:
    compiled = statement.compile(dialect=_dialect(name), compile_kwargs={"literal_binds": True})
    return " ".join(str(compiled).replace("`", "").split())  # Hive quotes every name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postgresql", "percentile_cont(0.95) WITHIN GROUP (ORDER BY w.x)"),
        ("hive", "percentile_cont(0.95) WITHIN GROUP (ORDER BY w.x)"),
        ("databricks", "percentile_cont(0.95) WITHIN GROUP (ORDER BY w.x)"),
        ("snowflake", "percentile_cont(0.95) WITHIN GROUP (ORDER BY w.x)"),
        ("duckdb", "quantile_cont(w.x, 0.95)"),
        ("trino", "approx_percentile(w.x, 0.95)"),
        ("clickhouse", "quantileExactInclusive(0.95)(w.x)"),
        ("bigquery", "APPROX_QUANTILES(w.x, 1000)[OFFSET(950)]"),
        ("sqlite", "row_number() OVER (ORDER BY w.x)"),
    ],
)
def test_the_percentile_is_each_dialects_own_function(name: str, expected: str) -> None:
    """An aggregate over the SELECT's rows where the dialect has one (it skips NULLs), so it
    shares the window summary's one statement; else a scalar subquery over the rows."""
    stmt = sa.select(sa.func.count(), dialect.percentile(ROWS.c.x, 0.95)).select_from(ROWS)
    sql = _sql(name, stmt)
    assert expected.lower() in sql.lower(), sql
    if name == "sqlite":
        assert "x IS NOT NULL" in sql, sql  # nulls are not values
        assert sql.count("FROM preds") == 2, sql  # one statement, the rows read twice
    else:
        assert sql.count("FROM preds") == 1, sql  # one pass over the rows


def test_a_time_bound_is_cast_to_timestamp_where_the_driver_sends_text() -> None:
    """PyHive pastes parameters into the SQL as text and drops the zone: the bound goes as
    ISO text with its offset inside CAST(... AS TIMESTAMP); other drivers bind a datetime."""
    when = datetime(2026, 3, 2, tzinfo=UTC)
    sample = datetime(2026, 3, 1, tzinfo=UTC)
    condition = sa.column("ts", sa.DateTime()) >= bound(when, sample, "UTC")
    hive = _dialect("hive")
    sql = str(condition.compile(dialect=hive)).replace("`", "")
    assert sql.startswith("ts >= CAST(") and sql.endswith(" AS TIMESTAMP)"), sql
    assert dialect.Timestamp().process_bind_param(when, hive) == "2026-03-02 00:00:00+00:00"
    postgresql = condition.compile(dialect=_dialect("postgresql"))
    assert "CAST" not in str(postgresql)
    assert list(postgresql.params.values()) == [when]
    assert dialect.Timestamp().process_bind_param(when, _dialect("postgresql")) == when


def test_a_hive_timestamp_sample_is_read_as_a_time() -> None:
    stored = dialect.StoredTime()
    hive, sqlite = _dialect("hive"), _dialect("sqlite")
    text = "2026-03-01 00:00:05"
    assert stored.process_result_value(text, hive) == datetime(2026, 3, 1, 0, 0, 5)
    assert stored.process_result_value(text, sqlite) == text  # SQLite: the spelling shows
