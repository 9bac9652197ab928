from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.sources import ModelLog, ReferenceReader, SourceEngines, SourceError, check_read_only
from monitor.sources.validate import check_model
from monitor.windows import Window
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write

Engines = Callable[[Config], SourceEngines]


def _log(config: Config, engines_for: Engines, name: str = "churn") -> ModelLog:
    return ModelLog(config.model(name), engines_for(config))


def _rows_at(engine: Engine, times: list[datetime]) -> None:
    frame = log_frame(T0, 1, per_hour=len(times))
    frame["ts"] = [t.replace(tzinfo=None) for t in times]
    write(engine, frame, "preds")


def test_window_is_half_open_start_included_end_excluded(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    start, end = day(1), day(2)
    times = [start - timedelta(microseconds=1), start, end - timedelta(seconds=1), end]
    _rows_at(engine, times)
    log = _log(make_config(db_url), engines_for)
    rows = log.rows(Window(start, end), ["ts"], with_target=False)
    assert sorted(rows["ts"]) == [pd.Timestamp(start), pd.Timestamp(end - timedelta(seconds=1))]
    assert str(rows["ts"].dt.tz) == "UTC"


@pytest.mark.parametrize(
    "stored", ["2026-03-02 00:00:00", "2026-03-02T00:00:00", "2026-03-02 00:00:00.000000"]
)
def test_sqlite_text_timestamps_in_any_iso_spelling_respect_window_bounds(
    tmp_path: Path, engines_for: Engines, stored: str
) -> None:
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    raw = sa.create_engine(url)
    with raw.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE preds (ts TIMESTAMP, age REAL, income REAL, plan TEXT, pred INT)"
        )
        for ts in (stored, stored.replace("03-02", "03-03")):
            conn.exec_driver_sql("INSERT INTO preds VALUES (?, 40, 1, 'a', 1)", (ts,))
    raw.dispose()
    config = make_config(url, model_dict(score=None, target=None, latency=None))
    rows = _log(config, engines_for).rows(Window(day(1), day(2)), ["ts"], with_target=False)
    assert list(rows["ts"]) == [pd.Timestamp(day(1))]


def test_only_the_requested_columns_are_read(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    write(engine, log_frame(T0, 24), "preds")
    log = _log(make_config(db_url), engines_for)
    rows = log.rows(Window(T0, day(1)), ["ts", "age"], with_target=False)
    assert list(rows.columns) == ["ts", "age"]
    assert len(rows) == 24 * 20


def test_target_is_joined_from_the_labels_table_by_key(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    frame = log_frame(T0, 2)
    write(engine, frame.drop(columns=["label"]), "preds")
    labelled = frame[frame["id"] % 2 == 0][["id", "label"]].rename(columns={"label": "outcome"})
    write(engine, labelled, "labels")
    target = {"table": "labels", "key": "id", "column": "outcome"}
    log = _log(make_config(db_url, model_dict(target=target)), engines_for)
    rows = log.rows(Window(T0, day(1)), ["id", "ts"], with_target=True)
    merged = rows.set_index("id")["outcome"]
    assert merged[merged.index % 2 == 1].isna().all()
    expected = frame.set_index("id")["label"]
    even = merged.index[merged.index % 2 == 0]
    assert (merged[even] == expected[even]).all() and len(even) == len(frame) // 2


def test_unknown_table_names_the_model_and_table(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    write(engine, log_frame(T0, 1), "preds")
    log = _log(make_config(db_url, model_dict(table="nope")), engines_for)
    with pytest.raises(SourceError, match="model 'churn': table 'nope' not found"):
        log.rows(Window(T0, day(1)), ["ts"], with_target=False)


def test_unknown_column_names_it_and_lists_the_available_ones(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    write(engine, log_frame(T0, 1), "preds")
    config = make_config(db_url, model_dict(features={"numerical": ["agee"]}))
    with pytest.raises(
        SourceError, match=r"feature column 'agee' not found in table 'preds'; available: age, "
    ):
        _log(config, engines_for).rows(Window(T0, day(1)), ["ts", "agee"], with_target=False)
    problems = check_model(config.models[0], engines_for(config))
    assert any("'agee' not found" in p for p in problems)


def test_identifiers_are_quoted_never_pasted_into_sql(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    frame = log_frame(T0, 1).rename(columns={"age": "order", "plan": "plan type"})
    write(engine, frame, "preds")
    features = {"numerical": ["order"], "categorical": ["plan type"]}
    log = _log(make_config(db_url, model_dict(features=features)), engines_for)
    rows = log.rows(Window(T0, day(1)), ["ts", "order", "plan type"], with_target=False)
    assert len(rows) == 20 and rows["order"].notna().all()
    hostile = make_config(db_url, model_dict(features={"numerical": ["age; DROP TABLE preds"]}))
    with pytest.raises(SourceError, match="not found"):
        _log(hostile, engines_for).rows(
            Window(T0, day(1)), ["ts", "age; DROP TABLE preds"], with_target=False
        )
    assert sa.inspect(engine).has_table("preds")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("DELETE FROM preds", "must be a SELECT"),
        ("SELECT * FROM preds; DROP TABLE preds", "single statement"),
        ("WITH gone AS (DELETE FROM preds RETURNING *) SELECT * FROM gone", "read-only"),
        ("UPDATE preds SET age = 1", "must be a SELECT"),
    ],
)
def test_queries_must_be_one_read_only_select(query: str, problem: str) -> None:
    with pytest.raises(SourceError, match=problem):
        check_read_only(query, model="churn")


def test_a_semicolon_inside_a_string_literal_is_not_a_second_statement() -> None:
    assert check_read_only("SELECT * FROM preds WHERE plan <> ';';", model="m").endswith("';'")


def test_a_query_model_reads_its_window_through_bound_parameters(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    query = "SELECT id, ts, age, income, plan, pred FROM preds WHERE plan <> 'pro'"
    config = make_config(
        db_url, model_dict(table=None, query=query, score=None, target=None, latency=None)
    )
    rows = _log(config, engines_for).rows(Window(day(1), day(2)), ["ts", "plan"], with_target=False)
    assert 0 < len(rows) < 24 * 20
    assert set(rows["plan"]) <= {"basic", "plus"}
    assert rows["ts"].min() >= pd.Timestamp(day(1)) and rows["ts"].max() < pd.Timestamp(day(2))


def test_text_in_a_numerical_column_is_an_error_naming_the_column(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    frame = log_frame(T0, 1)
    frame["income"] = frame["income"].astype(str)
    frame.loc[3, "income"] = "unknown"
    write(engine, frame, "preds")
    config = make_config(db_url)
    with pytest.raises(SourceError, match="column 'income' is numerical but holds 'unknown'"):
        _log(config, engines_for).rows(Window(T0, day(1)), ["ts", "income"], with_target=False)
    problems = check_model(config.models[0], engines_for(config))
    assert any("'income' must be numeric" in p for p in problems)


def test_naive_log_times_are_read_in_the_sources_timezone(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    # 00:30 in Berlin (UTC+1 in March) is 23:30Z of the previous day.
    _rows_at(engine, [datetime(2026, 3, 2, 0, 30)])
    tree_config = make_config(db_url)
    berlin = tree_config.model_copy(
        update={
            "sources": {
                "logs": tree_config.sources["logs"].model_copy(update={"timezone": "Europe/Berlin"})
            }
        }
    )
    rows = _log(berlin, engines_for).rows(Window(day(0), day(1)), ["ts"], with_target=False)
    assert list(rows["ts"]) == [pd.Timestamp("2026-03-01T23:30Z")]


def test_reference_file_is_read_with_only_configured_columns(
    db_url: str, engine: Engine, engines_for: Engines, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 1), "preds")
    train = log_frame(T0, 5, seed=3)
    train.to_parquet(tmp_path / "train.parquet")
    train.to_csv(tmp_path / "train.csv", index=False)
    for name in ("train.parquet", "train.csv"):
        config = make_config(db_url, model_dict(reference={"file": str(tmp_path / name)}))
        reader = ReferenceReader(_log(config, engines_for))
        frame = reader.load(Window(day(1), day(2)))
        assert set(frame.columns) == {"age", "income", "plan", "pred", "score", "label"}
        assert frame["age"].tolist() == train["age"].tolist()
        spec = reader.describe(Window(day(1), day(2)))
        assert spec.fingerprint is not None and spec.descriptor["kind"] == "file"


def test_reference_file_without_a_feature_is_an_error_naming_file_and_column(
    db_url: str, engines_for: Engines, tmp_path: Path
) -> None:
    log_frame(T0, 1).drop(columns=["income"]).to_csv(tmp_path / "train.csv", index=False)
    config = make_config(db_url, model_dict(reference={"file": str(tmp_path / "train.csv")}))
    with pytest.raises(SourceError, match=r"train.csv' lacks feature columns \['income'\]"):
        ReferenceReader(_log(config, engines_for)).load(Window(day(1), day(2)))


def test_reference_fingerprint_changes_with_contents_and_rolling_has_no_identity(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    write(engine, log_frame(T0, 48), "preds")
    live = Window(day(2), day(3))
    fixed = ReferenceReader(_log(make_config(db_url), engines_for))
    before = fixed.describe(live).fingerprint
    assert (
        before == ReferenceReader(_log(make_config(db_url), engines_for)).describe(live).fingerprint
    )
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE preds SET label = NULL WHERE id = 1"))
    assert (
        ReferenceReader(_log(make_config(db_url), engines_for)).describe(live).fingerprint != before
    )
    rolling = ReferenceReader(
        _log(make_config(db_url, model_dict(reference={"previous": "1d"})), engines_for)
    )
    # a rolling reference is fingerprinted by its period's contents, without an identity
    spec = rolling.describe(live)
    assert spec.fingerprint is not None and spec.identity is None
    assert spec.fingerprint != rolling.describe(Window(day(1), day(2))).fingerprint


def test_previous_reference_is_the_period_just_before_the_live_window(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    write(engine, log_frame(T0, 72), "preds")
    config = make_config(db_url, model_dict(reference={"previous": "2d"}))
    frame = ReferenceReader(_log(config, engines_for)).load(Window(day(2), day(3)))
    assert len(frame) == 48 * 20


def test_a_query_model_joins_labels_from_their_table(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    frame = log_frame(T0, 24)
    write(engine, frame.drop(columns=["label"]), "preds")
    write(engine, frame[["id", "label"]].rename(columns={"label": "outcome"}), "labels")
    model = model_dict(
        table=None,
        query="SELECT id, ts, age, income, plan, pred, score, latency_ms FROM preds",
        target={"table": "labels", "key": "id", "column": "outcome"},
    )
    rows = _log(make_config(db_url, model), engines_for).rows(
        Window(T0, day(1)), ["id", "pred"], with_target=True
    )
    assert len(rows) == len(frame)
    assert (rows.set_index("id")["outcome"] == frame.set_index("id")["label"]).all()


def test_a_missing_sqlite_source_file_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    config = make_config(f"sqlite:///{missing}")
    with SourceEngines(config.sources) as engines, pytest.raises(SourceError, match=r"nope\.db"):
        engines.engine("logs")
    assert not missing.exists()


@pytest.mark.parametrize(
    "stored",
    [
        "2026-03-02T00:00:00Z",
        "2026-03-02T00:00:00.000Z",
        "2026-03-02 01:00:00+01:00",
        "2026-03-02T00:00:00.000000+00:00",
    ],
)
def test_sqlite_text_timestamps_with_a_zone_suffix_respect_window_bounds(
    tmp_path: Path, engines_for: Engines, stored: str
) -> None:
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    raw = sa.create_engine(url)
    with raw.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE preds (ts TEXT, age REAL, income REAL, plan TEXT, pred INT)"
        )
        for ts in (stored, stored.replace("03-02", "03-03")):
            conn.exec_driver_sql("INSERT INTO preds VALUES (?, 40, 1, 'a', 1)", (ts,))
    raw.dispose()
    config = make_config(url, model_dict(score=None, target=None, latency=None))
    rows = _log(config, engines_for).rows(Window(day(1), day(2)), ["ts"], with_target=False)
    assert list(rows["ts"]) == [pd.Timestamp(day(1))]


def test_postgres_timestamptz_logs_respect_window_bounds(
    db_url: str, engine: Engine, engines_for: Engines, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("timestamptz is PostgreSQL's; SQLite's zone-suffixed text is tested above")
    start, end = day(1), day(2)
    _rows_at(engine, [start - timedelta(microseconds=1), start, end])
    with engine.begin() as conn:
        conn.exec_driver_sql("SET TIME ZONE 'America/New_York'")
        conn.exec_driver_sql(
            "ALTER TABLE preds ALTER COLUMN ts TYPE timestamptz USING ts AT TIME ZONE 'UTC'"
        )
    rows = _log(make_config(db_url), engines_for).rows(
        Window(start, end), ["ts"], with_target=False
    )
    assert list(rows["ts"]) == [pd.Timestamp(start)]


def test_reference_table_is_read_whole_and_its_fingerprint_follows_its_rows(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    write(engine, log_frame(T0, 1), "preds")
    training = log_frame(T0, 10, seed=5).drop(columns=["ts", "latency_ms"])
    write(engine, training, "training")
    config = make_config(db_url, model_dict(reference={"table": "training"}))
    reader = ReferenceReader(_log(config, engines_for))
    frame = reader.load(Window(day(1), day(2)))
    assert len(frame) == len(training)
    assert set(frame.columns) == {"age", "income", "plan", "pred", "score", "label"}
    before = reader.describe(Window(day(1), day(2))).fingerprint
    write(engine, training.iloc[:-1], "training")
    assert reader.describe(Window(day(1), day(2))).fingerprint != before


def test_reference_table_without_a_feature_is_an_error(
    db_url: str, engine: Engine, engines_for: Engines
) -> None:
    write(engine, log_frame(T0, 1), "preds")
    write(engine, log_frame(T0, 1).drop(columns=["plan"]), "training")
    config = make_config(db_url, model_dict(reference={"table": "training"}))
    with pytest.raises(
        SourceError, match=r"reference table 'training' lacks feature columns \['plan'\]"
    ):
        ReferenceReader(_log(config, engines_for)).load(Window(day(1), day(2)))
    assert any(
        "lacks features ['plan']" in p for p in check_model(config.models[0], engines_for(config))
    )
