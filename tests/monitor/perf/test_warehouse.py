"""Warehouse mode equals the in-memory path where it is exact, on SQLite, PostgreSQL and DuckDB.

Where it bins (numerical drift on reference-quantile bins), the counts it gets from the
database equal numpy's counts of the same values on the same edges.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn import metrics as skm
from sqlalchemy.orm import Session

from monitor.config import parse_config
from monitor.scans.cache import reference_summary
from monitor.scans.exact import Windows
from monitor.scans.run import ScanReport, run_scan
from monitor.scans.warehouse import read_in_database
from monitor.sources import ModelLog, SourceEngines
from monitor.sources import warehouse as sql
from monitor.sources.batch import Batch
from monitor.store import make_engine, make_sessionmaker, migrate
from monitor.windows import Window
from tests.monitor.scancore.conftest import (
    day,
    log_frame,
    model_dict,
    multiclass_frame,
    multiclass_model,
)

# Checks warehouse mode computes exactly (the numerical drift tests are binned instead).
EXACT = ["drift:plan", "missing_share:age", "missing_share:plan", "prediction_drift"]
EXACT += ["target_drift", "accuracy", "recall", "row_count", "label_coverage"]


def _logs(url: str) -> pd.DataFrame:
    reference = log_frame(day(0), 24, per_hour=60, seed=1)
    live = log_frame(day(1), 24, per_hour=60, seed=2, shift=4.0)
    frame = pd.concat([reference, live], ignore_index=True)
    frame.loc[frame.index % 17 == 0, "age"] = None  # nulls the missing shares count
    frame.loc[frame.index % 23 == 0, "plan"] = None
    frame.loc[frame.index % 5 == 0, "label"] = None  # labels not yet arrived
    engine = sa.create_engine(url)
    frame.to_sql("preds", engine, index=False, chunksize=1000)
    engine.dispose()
    return frame


def _config(source: str, state: str, *, warehouse: bool, segment: str | None = None) -> Any:
    thresholds = [
        {"metric": "accuracy", "min": 0.8},
        {"metric": "recall", "min": 0.5},
        {"metric": "row_count", "min": 10, "segments": True},
        {"metric": "label_coverage", "min": 0.5},
        {"metric": "latency_p99", "max": 1000},
        {"metric": "latency_p50", "max": 1000},
    ]
    model = model_dict(warehouse=warehouse, segment=segment, checks={"thresholds": thresholds})
    if source.startswith("duckdb"):
        # duckdb-engine 0.17 cannot reflect tables under SQLAlchemy 2.1 (it queries
        # pg_catalog.pg_collation); a query source needs no reflection.
        model = model | {"table": None, "query": "SELECT * FROM preds"}
    tree = {"state_db": state, "sources": {"logs": {"url": source}}, "models": [model]}
    return parse_config(tree, file="test.yaml")


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def _scan(
    source: str, session: Session, *, warehouse: bool, segment: str | None = None
) -> ScanReport:
    config = _config(source, "sqlite://", warehouse=warehouse, segment=segment)
    with SourceEngines(config.sources) as engines:
        report = run_scan(config.models[0], day(2), engines=engines, session=session)
    assert report.status != "error", report.error
    return report


def test_warehouse_scan_equals_the_in_memory_scan_where_it_is_exact(
    source_url: str, state: Session
) -> None:
    _logs(source_url)
    exact = {r.outcome.check: r.outcome for r in _scan(source_url, state, warehouse=False).results}
    report = _scan(source_url, state, warehouse=True)
    summed = {r.outcome.check: r.outcome for r in report.results}
    assert set(summed) == set(exact)
    for check in EXACT:
        assert summed[check].value == pytest.approx(exact[check].value, rel=1e-12), check
        assert summed[check].passed == exact[check].passed, check
    for check in ("latency_p50", "latency_p99"):  # interpolated by the database
        assert summed[check].value == pytest.approx(exact[check].value, rel=1e-9), check
    assert report.rows["live"] == 1440 and report.rows["labelled"] == 1152
    assert summed["drift:age"].details["binning"].startswith("reference quantiles")
    assert summed["drift:age"].passed is False  # a 4-year shift is found on bins too


def test_database_bin_counts_equal_numpy_counts_on_the_same_edges(source_url: str) -> None:
    _logs(source_url)
    config = _config(source_url, "sqlite://", warehouse=True)
    with SourceEngines(config.sources) as engines:
        log = ModelLog(config.models[0], engines)
        window = Window(day(1), day(2))
        values = log.rows(window, ["age", "income"], with_target=False)
        reference = np.sort(values["income"].to_numpy()) - 1000.0
        edges = {"age": sql.quantile_edges(np.sort(values["age"].dropna().to_numpy()), 7)}
        edges["income"] = sql.quantile_edges(reference)
        rows = sql.window_rows(log, window, ["age", "income", "plan"], target=False)
        batch = Batch(log)
        counted = sql.counts(batch, rows, edges)
        median = sql.percentile(batch, rows, "income", 50)
        high = sql.percentile(batch, rows, "age", 95)
        plans = sql.value_counts(batch, rows, "plan", limit=2)
        batch.run()
        total, present, counts = counted()
        p50, p95 = median(), high()
        plan = log.rows(window, ["plan"], with_target=False)["plan"].value_counts()
    assert total == len(values)
    top = plan.sort_values(ascending=False)
    keys, kept, capped = plans()
    assert sorted(kept, reverse=True) == list(top.iloc[:2]) and set(keys) <= set(top.index)
    assert capped == (int(top.iloc[2:].sum()), len(top))  # rows not kept, distinct values
    for column, column_edges in edges.items():
        data = values[column].dropna().to_numpy()
        expected, _ = np.histogram(data, np.concatenate(([-np.inf], column_edges, [np.inf])))
        assert present[column] == data.size
        np.testing.assert_array_equal(counts[column], expected)
    assert p50 == pytest.approx(np.percentile(values["income"], 50), rel=1e-12)
    assert p95 == pytest.approx(np.percentile(values["age"].dropna(), 95), rel=1e-12)
    assert not math.isnan(p95)


def test_warehouse_segments_equal_the_in_memory_segments_where_they_are_exact(
    source_url: str, state: Session
) -> None:
    frame = _logs(source_url)
    exact_report = _scan(source_url, state, warehouse=False, segment="region")
    report = _scan(source_url, state, warehouse=True, segment="region")
    exact = {(r.segment, r.outcome.check): r.outcome for r in exact_report.results}
    summed = {(r.segment, r.outcome.check): r.outcome for r in report.results}
    assert set(summed) == set(exact)
    live = frame[
        (frame["ts"] >= day(1).replace(tzinfo=None)) & (frame["ts"] < day(2).replace(tzinfo=None))
    ]
    regions = sorted(live["region"].dropna().astype(str).unique())
    assert len(regions) > 1 and {s for s, _ in summed} == {"", *regions}
    for region in regions:
        rows = summed[(region, "row_count")]
        assert rows.value == (live["region"] == region).sum()
        for check in EXACT:
            key = (region, check)
            assert summed[key].value == pytest.approx(exact[key].value, rel=1e-12), key
            assert summed[key].passed == exact[key].passed, key
        assert summed[(region, "drift:age")].details["binning"].startswith("reference quantiles")


def _multiclass_logs(url: str, labels: str) -> pd.DataFrame:
    reference = multiclass_frame(day(0), 24, seed=1, hit_rate=0.9, per_hour=60)
    live = multiclass_frame(day(1), 24, seed=2, hit_rate=0.55, per_hour=60)
    live["id"] += len(reference)
    frame = pd.concat([reference, live], ignore_index=True)
    if labels == "integer":
        # the target column with nulls is stored as floats, the prediction as integers: the
        # GROUP BY table pairs 1.0 with 1, which must count as one class
        codes = {"bird": 0, "cat": 1, "dog": 2}
        frame["animal"] = frame["animal"].map(codes)
        predicted = frame["animal_pred"].map(codes).fillna(frame["animal"]).fillna(1)
        frame["animal_pred"] = predicted.astype(int)
    engine = sa.create_engine(url)
    frame.to_sql("preds", engine, index=False, chunksize=1000)
    engine.dispose()
    return frame.iloc[len(reference) :]


def _multiclass_scan(source: str, session: Session, *, warehouse: bool) -> dict[str, Any]:
    thresholds = [{"metric": m, "min": 0.7} for m in ("accuracy", "precision", "recall", "f1")]
    model = multiclass_model(warehouse=warehouse, checks={"thresholds": thresholds})
    if source.startswith("duckdb"):
        model = model | {"table": None, "query": "SELECT * FROM preds"}
    tree = {"state_db": "sqlite://", "sources": {"logs": {"url": source}}, "models": [model]}
    config = parse_config(tree, file="test.yaml")
    with SourceEngines(config.sources) as engines:
        report = run_scan(config.models[0], day(2), engines=engines, session=session)
    assert report.status != "error", report.error
    return {r.outcome.check: r.outcome for r in report.results} | {"_report": report}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.parametrize("labels", ["text", "integer"])
def test_warehouse_multiclass_metrics_from_a_group_by_table_equal_sklearn(
    source_url: str, state: Session, labels: str
) -> None:
    live = _multiclass_logs(source_url, labels)
    judged = live[live["animal"].notna() & live["animal_pred"].notna()]
    truth, pred = judged["animal"], judged["animal_pred"]
    if labels == "integer":
        truth = truth.astype(int)
    expected = {
        "accuracy": skm.accuracy_score(truth, pred),
        "precision": skm.precision_score(truth, pred, average="macro"),
        "recall": skm.recall_score(truth, pred, average="macro"),
        "f1": skm.f1_score(truth, pred, average="macro"),
    }
    exact = _multiclass_scan(source_url, state, warehouse=False)
    summed = _multiclass_scan(source_url, state, warehouse=True)
    assert {value >= 0.7 for value in expected.values()} == {True, False}  # some fail
    for name, value in expected.items():
        assert summed[name].value == pytest.approx(value, rel=1e-12), name
        assert summed[name].passed is (value >= 0.7), name
        assert exact[name].value == pytest.approx(value, rel=1e-12), name
    for check in ("prediction_drift", "target_drift"):
        assert summed[check].value == pytest.approx(exact[check].value, rel=1e-12), check
    performance = summed["_report"].metrics["performance"]
    assert set(performance) == {"accuracy", "precision", "recall", "f1"}


@pytest.mark.parametrize("segment", [None, "region"], ids=["whole", "segmented"])
def test_a_warehouse_window_summary_is_one_statement(
    source_url: str, state: Session, segment: str | None
) -> None:
    """Each statement costs up to a second on Spark: the live and performance windows'
    counts, bins, categories, confusion counts and percentiles come in one statement; a
    segmented model asks for its segment values first (one more). A ``query:`` source: its
    columns have no types here, which the statement's typed NULLs must survive."""
    _logs(source_url)
    config = _config(source_url, "sqlite://", warehouse=True, segment=segment)
    reference = {"between": ["2026-03-01", "2026-03-02"], "refresh": "1d"}  # no re-count
    update = {"reference": type(config.models[0].reference)(**reference), "table": None}
    model = config.models[0].model_copy(update=update | {"query": "SELECT * FROM preds"})
    windows = Windows(live=Window(day(1), day(2)), performance=Window(day(1), day(2)))
    statements: list[str] = []
    with SourceEngines(config.sources) as engines:
        log = ModelLog(model, engines)
        log.prepare()  # reflection and the timestamp sample: once per scan, not per summary
        log.within(windows.live)  # SQLite's text times: which spellings the window holds
        reference_summary(model, log, windows.live, session=state)  # cached from now on
        sa.event.listen(
            engines.engine("logs"), "before_cursor_execute", lambda *a: statements.append(a[2])
        )
        summary, _, _ = read_in_database(model, log, windows, session=state)
    assert summary.whole.rows == 1440 and summary.rows["labelled"] == 1152
    assert set(summary.slices) == ({""} if segment is None else {"", "north", "south"})
    queries = [s for s in statements if not s.startswith("SET ")]  # PostgreSQL's read-only guard
    assert len(queries) == (1 if segment is None else 2), queries
    assert "UNION ALL" in queries[-1]
