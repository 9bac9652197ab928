"""Warehouse mode on Apache Spark SQL (the Thrift server, through PyHive): a scan of a 1M-row
prediction log stores the same results as the same scan on PostgreSQL and DuckDB over the
same rows, and the values numpy computes from those rows where the scan is exact.

Each engine generates the rows itself from a hash of the row index (bench/warehouse_rows.py),
so nothing is transferred and all three hold bit-identical values.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench import warehouse_rows
from bench.spark_thrift import ThriftServer
from monitor.config import parse_config
from monitor.scans.run import run_scan
from monitor.scans.store import store_scan
from monitor.sources import SourceEngines
from monitor.store import Scan, make_engine, make_sessionmaker, migrate
from tests.conftest import _fresh_postgres_database
from tests.monitor.scancore.conftest import day, model_dict

pytestmark = pytest.mark.spark

REFERENCE, LIVE = 50_000, 950_000  # 1M rows; the reference is read to build its profiles
THRESHOLDS = [
    {"metric": "accuracy", "min": 0.8},
    {"metric": "recall", "min": 0.5},
    {"metric": "row_count", "min": 10, "segments": True},
    {"metric": "label_coverage", "min": 0.5},
    {"metric": "missing_share", "column": "age", "max": 0.05},
    {"metric": "latency_p99", "max": 290},
    {"metric": "latency_p50", "max": 1000},
]


def _load(url: str, engine_name: str) -> None:
    """The generated rows, loaded by one INSERT ... SELECT on the engine (a raw cursor: the
    statements hold ``%``, which a pyformat driver would read as a placeholder)."""
    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement in warehouse_rows.load_statements(
            engine_name, reference=REFERENCE, live=LIVE
        ):
            cursor.execute(statement)
        if engine_name == "hive":  # in memory, as a warehouse keeps a hot table: faster CI
            cursor.execute("CACHE TABLE preds")
        cursor.close()
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def _stored(url: str, state: Path) -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]]]:
    """Scan the live day in warehouse mode, store it, and read the stored scan back."""
    model = model_dict(warehouse=True, segment="region", checks={"thresholds": THRESHOLDS})
    if url.startswith("duckdb"):  # duckdb-engine cannot reflect under SQLAlchemy 2.1
        model = model | {"table": None, "query": "SELECT * FROM preds"}
    db = f"sqlite:///{state}"
    migrate.upgrade(db)
    tree = {"state_db": db, "sources": {"logs": {"url": url}}, "models": [model]}
    config = parse_config(tree, file="test.yaml")
    engine = make_engine(db)
    statements: list[str] = []
    try:
        with make_sessionmaker(engine)() as session, SourceEngines(config.sources) as engines:
            sa.event.listen(
                engines.engine("logs"), "before_cursor_execute", lambda *a: statements.append(a[2])
            )
            report = run_scan(config.models[0], day(2), engines=engines, session=session)
            assert report.status != "error", report.error
            # the segment values, then the window summary: one statement each (beside them
            # reflection, a timestamp sample, the reference; tests/monitor/perf counts all)
            assert sum("UNION ALL" in s for s in statements) == 2, statements
            store_scan(report, session=session)
            session.commit()
            return _read_back(session)
    finally:
        engine.dispose()


def _read_back(session: Session) -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]]]:
    scan = session.scalars(sa.select(Scan)).one()
    head = {
        "rows": (scan.rows_reference, scan.rows_live, scan.rows_labelled),
        "status": scan.status,
        "metrics": scan.metrics,
        "model_versions": scan.model_versions,
    }
    results = {
        (r.check, r.segment): {
            "method": r.method,
            "value": r.value,
            "threshold": r.threshold,
            "passed": r.passed,
            "severity": r.severity,
            "reason": r.reason,
            "details": _without_reference_identity(r.details),
        }
        for r in scan.results
    }
    return head, results


def _without_reference_identity(details: dict[str, Any] | None) -> dict[str, Any] | None:
    """The details less the calibration's reference fingerprint: it names how the reference is
    read (DuckDB reads a `query:` source, the others the table), not what the scan found."""
    if not details or not isinstance(details.get("calibration"), dict):
        return details
    calibration = {k: v for k, v in details["calibration"].items() if k != "fingerprint"}
    return details | {"calibration": calibration}


def _same(a: Any, b: Any, where: str) -> None:
    """Equal, floats to 1e-9 relative (sums may add in another order on another engine)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{k}]")
    elif isinstance(a, float) and isinstance(b, float) and not (math.isnan(a) or math.isnan(b)):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), where
    else:
        assert a == b, where


@pytest.fixture
def postgres_url(postgres_admin: sa.Engine) -> Iterator[str]:
    for url in _fresh_postgres_database(postgres_admin):
        yield url.render_as_string(hide_password=False)


@pytest.mark.parametrize("engines", ["spark-postgresql-duckdb"])
def test_a_spark_warehouse_scan_stores_what_postgresql_and_duckdb_store(
    spark_server: ThriftServer, postgres_url: str, tmp_path: Path, engines: str
) -> None:
    duckdb_url = f"duckdb:///{tmp_path / 'logs.duckdb'}"
    for url, name in ((spark_server.url, "hive"), (postgres_url, "postgresql")):
        _load(url, name)
    _load(duckdb_url, "duckdb")
    spark = _stored(spark_server.url, tmp_path / "spark.db")
    postgresql = _stored(postgres_url, tmp_path / "postgresql.db")
    duckdb = _stored(duckdb_url, tmp_path / "duckdb.db")
    _same(spark, postgresql, "spark vs postgresql")
    _same(spark, duckdb, "spark vs duckdb")

    # ... and what numpy computes from the same rows, where warehouse mode is exact
    head, results = spark
    rows = warehouse_rows.frame(reference=REFERENCE, live=LIVE)
    live = rows.iloc[REFERENCE:]
    labelled = live[live["label"].notna()]
    assert head["rows"] == (REFERENCE, LIVE, len(labelled))
    accuracy = float((labelled["label"] == labelled["pred"]).mean())
    assert results[("accuracy", "")]["value"] == pytest.approx(accuracy, rel=1e-12)
    for q in (50, 99):
        expected = np.percentile(live["latency_ms"], q)
        assert results[(f"latency_p{q}", "")]["value"] == pytest.approx(expected, rel=1e-12)
    share = float(live["age"].isna().mean())
    assert results[("missing_share:age", "")]["value"] == pytest.approx(share, rel=1e-12)
    for region, part in live.groupby("region"):
        assert results[("row_count", str(region))]["value"] == len(part)
    assert results[("drift:age", "")]["passed"] is False  # the +4 shift is found on bins
    assert results[("drift:income", "")]["passed"] is True
