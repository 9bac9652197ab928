"""Data that used to be read wrongly or without bound (issue 12, item 16): timestamps stored as
text in two ISO spellings, and categorical columns with a great many distinct values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from checks.drift import OTHER, profile_column
from monitor.config import Config
from monitor.scans import run_scan
from monitor.sources import ModelLog, SourceEngines
from monitor.windows import Window
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write

Engines = Callable[[Config], SourceEngines]


def _mixed_spellings(engine: Engine) -> pd.DataFrame:
    """Three days of logs whose times are text, every other row with 'T', the rest with a
    space (as str(datetime) and datetime.isoformat() write them); the parsed times beside."""
    frame = log_frame(T0, 3 * 24)
    times = frame["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
    with_t = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    frame["ts"] = times.where(frame.index % 2 == 0, with_t)
    write(engine, frame, "preds")
    return frame.assign(parsed=pd.to_datetime(frame["ts"], format="ISO8601").dt.tz_localize("UTC"))


@pytest.mark.parametrize(
    "window",
    [Window(day(1), day(2)), Window(day(1) + timedelta(hours=9), day(1) + timedelta(hours=10))],
    ids=["day", "hour"],
)
def test_text_times_in_two_spellings_are_all_read_and_the_mix_is_reported(
    db_url: str, engine: Engine, engines_for: Engines, window: Window
) -> None:
    frame = _mixed_spellings(engine)
    config = make_config(db_url)
    log = ModelLog(config.model("churn"), engines_for(config))
    rows = log.rows(window, ["ts", "age"], with_target=False)
    inside = frame[(frame["parsed"] >= window.start) & (frame["parsed"] < window.end)]
    assert len(inside) > 10 and inside["ts"].str.contains("T").any()
    assert sorted(rows["ts"]) == sorted(inside["parsed"])
    assert len(log.warnings) == 1
    warning = log.warnings[0]
    assert "model 'churn': timestamp column 'ts' holds times in two spellings" in warning
    assert "'2026-03-02 " in warning and "'2026-03-02T" in warning


def test_a_scan_of_mixed_spellings_counts_every_row_and_says_so(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = _mixed_spellings(engine)
    config = make_config(db_url)
    report = run_scan(config.model("churn"), day(2), engines=engines_for(config), session=session)
    live = frame[(frame["parsed"] >= day(1)) & (frame["parsed"] < day(2))]
    reference = frame[(frame["parsed"] >= day(0)) & (frame["parsed"] < day(1))]
    assert report.status != "error", report.error
    assert report.rows["live"] == len(live) and report.rows["reference"] == len(reference)
    assert any("holds times in two spellings" in w for w in report.warnings)


def test_one_spelling_gives_no_warning(db_url: str, engine: Engine, engines_for: Engines) -> None:
    frame = log_frame(T0, 2 * 24)
    frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    write(engine, frame, "preds")
    config = make_config(db_url)
    log = ModelLog(config.model("churn"), engines_for(config))
    rows = log.rows(Window(day(1), day(2)), ["age"], with_target=False)
    assert len(rows) == 24 * 20 and log.warnings == []


def test_profile_keeps_the_most_frequent_categories_and_counts_the_rest_as_other() -> None:
    rng = np.random.default_rng(3)
    values = pd.Series(rng.zipf(1.5, 5000).astype(str)).where(rng.random(5000) > 0.1)
    expected = values.value_counts()  # the oracle: pandas, most frequent first
    assert expected.size > 50
    profile = profile_column(values, "categorical", max_categories=20)
    keys, counts = profile.value_counts
    kept = dict(zip(keys.tolist(), counts.tolist(), strict=True))
    top = expected.sort_values(ascending=False, kind="stable")
    # Ties at the cut go either way; the kept counts are the 20 largest.
    assert sorted((c for k, c in kept.items() if k != OTHER), reverse=True) == list(top[:20])
    assert kept[OTHER] == int(expected.sum()) - sum(top[:20])
    assert profile.null_count == int(values.isna().sum()) and profile.total_count == 5000


def test_profile_under_the_cap_is_exact() -> None:
    values = pd.Series(["a", "b", "b", None, "c"])
    assert profile_column(values, "categorical", max_categories=3).value_counts[0].tolist() == [
        "a",
        "b",
        "c",
    ]


def test_a_scan_caps_a_column_with_many_categories_and_says_so(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 3 * 24)
    frame["user"] = [f"user-{n}" for n in range(len(frame))]  # every value distinct
    write(engine, frame, "preds")
    features = {"numerical": ["age"], "categorical": ["plan", "user"]}
    config = make_config(
        db_url, model_dict(features=features, checks={"drift": {"max_categories": 50}})
    )
    report = run_scan(config.model("churn"), day(2), engines=engines_for(config), session=session)
    assert report.status != "error", report.error
    results = {r.outcome.check: r.outcome for r in report.results if not r.segment}
    assert results["drift:plan"].details["reference_rows"] == 480  # 3 values: not capped
    assert results["drift:user"].details["categories_kept"] == 50
    assert any(
        "column 'user' has 480 distinct values" in w and "the 50 most frequent are kept" in w
        for w in report.warnings
    )


def test_max_categories_defaults_to_ten_thousand() -> None:
    config = make_config("sqlite://")
    assert config.model("churn").checks.drift.max_categories == 10_000
