"""The ADBC read path gives the same frame as the plain tuple path on the same rows."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal
from sqlalchemy.engine import Engine

from monitor.config import parse_config
from monitor.sources import ModelLog, SourceEngines, fastread
from monitor.sources.frames import normalise


def _tricky_table(engine: Engine) -> sa.Table:
    meta = sa.MetaData()
    table = sa.Table(
        "logs",
        meta,
        sa.Column("ts", sa.DateTime(timezone=True)),
        sa.Column("x", sa.Float),
        sa.Column("r", sa.REAL),
        sa.Column("amount", sa.Numeric(12, 4)),
        sa.Column("n", sa.Integer),
        sa.Column("code", sa.String),
        sa.Column("flag", sa.Boolean),
    )
    meta.create_all(engine)
    rng = np.random.default_rng(7)
    rows = [
        {
            "ts": pd.Timestamp("2026-03-01", tz="UTC") + pd.Timedelta(seconds=int(i * 37)),
            "x": float(rng.normal()) * 10 ** int(rng.integers(-8, 8)),
            "r": float(rng.lognormal(3, 1)),
            "amount": Decimal(f"{rng.integers(0, 10**6)}.{rng.integers(0, 10**4):04d}"),
            "n": int(rng.integers(-5, 5)),
            "code": str(rng.choice(["007", "a,b", 'say "hi"', "", "line\nbreak", "é"])),
            "flag": bool(rng.integers(0, 2)),
        }
        for i in range(400)
    ]
    for i in range(0, 400, 9):  # NULLs in every column but the timestamp
        rows[i] |= {"r": None, "x": None, "amount": None, "n": None, "code": None, "flag": None}
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    return table


def _log(url: str) -> ModelLog:
    config = parse_config(
        {
            "state_db": url,
            "sources": {"logs": {"url": url}},
            "models": [
                {
                    "name": "m",
                    "source": "logs",
                    "table": "logs",
                    "timestamp": "ts",
                    "features": {"numerical": ["x", "r", "amount"], "categorical": ["n", "code"]},
                    "prediction": "flag",
                    "reference": {"between": ["2026-03-01", "2026-03-02"]},
                    "window": "1d",
                    "schedule": {"every": "1d"},
                }
            ],
        },
        file="test.yaml",
    )
    return ModelLog(config.models[0], SourceEngines(config.sources))


def test_fast_read_equals_tuple_read_including_nulls_quotes_and_digit_text(
    db_url: str, engine: Engine, backend: str
) -> None:
    _tricky_table(engine)
    log = _log(db_url)
    stmt = log.select(["ts", "x", "r", "amount", "n", "code", "flag"], with_target=False)
    with log.engines.engine("logs").connect() as conn:
        if backend == "sqlite":
            assert not fastread.supports(conn)
            return
        assert fastread.supports(conn)
        result = conn.execute(stmt)
        plain = normalise(
            pd.DataFrame.from_records(list(result), columns=list(result.keys())), log.model
        )
        fast = normalise(fastread.fast_frame(conn, stmt), log.model)
    log.engines.dispose()
    assert list(fast.columns) == list(plain.columns)
    assert_frame_equal(
        fast.drop(columns=["code", "flag", "n"]), plain.drop(columns=["code", "flag", "n"])
    )
    # Text and booleans: same values and the same nulls (an empty string is not NULL).
    assert fast["code"].tolist() == plain["code"].tolist()
    assert fast["flag"].tolist() == plain["flag"].tolist()
    np.testing.assert_array_equal(fast["n"].to_numpy(float), plain["n"].to_numpy(float))
    assert (fast["code"] == "").sum() > 0 and fast["code"].isna().sum() == 45
    # Text categorical features are pandas categoricals on both paths; integers stay numbers.
    assert isinstance(fast["code"].dtype, pd.CategoricalDtype)
    assert isinstance(plain["code"].dtype, pd.CategoricalDtype)
    assert fast["n"].dtype.kind in "if" and plain["n"].dtype.kind in "if"


def test_real_columns_arrive_as_the_servers_decimal_form(
    db_url: str, engine: Engine, backend: str
) -> None:
    """PostgreSQL turns a ``real`` into its shortest decimal form as it sends the rows, so the
    column arrives as float64 equal to the tuple path's float of PostgreSQL's text."""
    if backend == "sqlite":
        pytest.skip("ADBC is PostgreSQL's")
    _tricky_table(engine)
    log = _log(db_url)
    stmt = log.select(["x", "r"], with_target=False)
    with log.engines.engine("logs").connect() as conn:
        table = fastread.adbc_table(conn, stmt)
        text = conn.execute(sa.text("select r::text from logs")).scalars().all()
    log.engines.dispose()
    assert str(table.schema.field("r").type) == "double"
    fast = table.column("r").to_pylist()
    assert fast == [None if t is None else float(t) for t in text]
    # not the float32 widened: 0.1-like values differ there in their later digits
    widened = np.asarray(fast, dtype=float).astype(np.float32).astype(np.float64)
    assert np.sum(np.asarray(fast, dtype=float) != widened) > 300


def _text(values: pd.Series) -> list[object]:
    return values.astype(object).where(values.notna(), None).tolist()


def test_adbc_read_compacted_in_many_groups_equals_the_tuple_read(
    db_url: str, engine: Engine, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny batches and groups: each group gets its own dictionary for the text column, and
    the frame is still the one the tuple path reads."""
    if backend == "sqlite":
        pytest.skip("ADBC is PostgreSQL's")
    _tricky_table(engine)
    log = _log(db_url)
    monkeypatch.setattr(fastread, "_BATCH_BYTES", 512)
    monkeypatch.setattr(fastread, "_GROUP_BYTES", 2048)
    groups: list[int] = []
    compact = fastread._compact

    def counting(batches: list, *args: object) -> object:
        groups.append(len(batches))
        return compact(batches, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(fastread, "_compact", counting)
    stmt = log.select(["ts", "x", "r", "amount", "n", "code", "flag"], with_target=False)
    with log.engines.engine("logs").connect() as conn:
        result = conn.execute(stmt)
        plain = normalise(
            pd.DataFrame.from_records(list(result), columns=list(result.keys())), log.model
        )
        fast = normalise(fastread.fast_frame(conn, stmt, categorical=["code"]), log.model)
    log.engines.dispose()
    assert len(groups) > 3 and max(groups) > 1, groups  # several groups of several batches
    assert sum(groups) > len(groups)
    text = ["code", "flag", "n"]
    assert_frame_equal(fast.drop(columns=text), plain.drop(columns=text))
    assert _text(fast["code"]) == _text(plain["code"])
    assert fast["flag"].tolist() == plain["flag"].tolist()
    np.testing.assert_array_equal(fast["n"].to_numpy(float), plain["n"].to_numpy(float))


def test_a_window_read_in_parallel_slices_has_exactly_the_rows_of_one_read(
    db_url: str, engine: Engine, backend: str
) -> None:
    from monitor.windows import Window

    if backend == "sqlite":
        pytest.skip("ADBC is PostgreSQL's")
    _tricky_table(engine)
    log = _log(db_url)
    # 400 rows 37 s apart from 03-01 00:00; slice edges fall between and on rows.
    window = Window(
        pd.Timestamp("2026-03-01 00:10", tz="UTC"), pd.Timestamp("2026-03-01 03:00:37", tz="UTC")
    )
    stmt = log.select(["ts", "x", "code"], with_target=False)
    whole = stmt.where(*log.within(window))
    parts = [stmt.where(*log.within(w)) for w in window.split(3)]
    with log.engines.engine("logs").connect() as conn:
        one = fastread.fast_frame(conn, whole, categorical=["code"])
        sliced = fastread.fast_frame(conn, whole, categorical=["code"], parts=parts)
    log.engines.dispose()
    assert len(one) == len(sliced) > 250
    key = ["ts"]
    assert_frame_equal(
        one.sort_values(key).reset_index(drop=True).astype({"code": object}),
        sliced.sort_values(key).reset_index(drop=True).astype({"code": object}),
    )


def test_normalise_makes_text_categoricals_and_leaves_mixed_values_alone(db_url: str) -> None:
    log = _log(db_url)  # features: categorical n, code
    stamps = pd.to_datetime(["2026-03-01"] * 3, utc=True)
    text = normalise(pd.DataFrame({"ts": stamps, "code": ["a", None, ""]}), log.model)
    assert isinstance(text["code"].dtype, pd.CategoricalDtype)
    assert _text(text["code"]) == ["a", None, ""]
    # SQLite lets a column hold a number beside text: compared as the values are.
    mixed = normalise(pd.DataFrame({"ts": stamps, "code": ["a", 1, None]}), log.model)
    assert mixed["code"].dtype == object and mixed["code"].tolist() == ["a", 1, None]


def test_fast_read_of_an_empty_window_has_the_selected_columns(
    db_url: str, engine: Engine, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("the fast path is PostgreSQL's")
    _tricky_table(engine)
    log = _log(db_url)
    x = log.relation.column("x", model="m", role="feature")
    stmt = log.select(["x", "code"], with_target=False).where(x > 1e300)
    frame = log.read(stmt)
    log.engines.dispose()
    assert list(frame.columns) == ["x", "code"] and frame.empty
