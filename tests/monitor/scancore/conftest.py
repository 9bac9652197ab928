"""Builders for the scan-core tests: prediction logs in a real database, configs as dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config, parse_config
from monitor.sources import SourceEngines
from monitor.store import make_sessionmaker, migrate

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ANIMALS = ["bird", "cat", "dog"]


def log_frame(
    start: datetime, hours: int, *, per_hour: int = 20, seed: int = 0, shift: float = 0.0
) -> pd.DataFrame:
    """Hourly prediction logs: numerical age/income, categorical plan, score, label, latency."""
    rng = np.random.default_rng(seed)
    n = hours * per_hour
    offsets = np.repeat(np.arange(hours), per_hour) * 3600 + rng.integers(0, 3600, n)
    times = pd.Timestamp(start.replace(tzinfo=None)) + pd.to_timedelta(offsets, unit="s")
    score = rng.uniform(0, 1, n)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "ts": times,
            "age": rng.normal(40 + shift, 10, n).round(1),
            "income": rng.normal(50_000, 8_000, n).round(),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "region": rng.choice(["north", "south"], n, p=[0.7, 0.3]),
            "score": score.round(4),
            "pred": (score >= 0.5).astype(int),
            "label": np.where(rng.random(n) < 0.85, score >= 0.5, score < 0.5).astype(int),
            "latency_ms": rng.lognormal(3, 0.3, n).round(1),
        }
    )


def multiclass_frame(
    start: datetime, hours: int, *, seed: int, hit_rate: float, per_hour: int = 20
) -> pd.DataFrame:
    """``log_frame`` rows with a 3-class target and a prediction right ``hit_rate`` of the
    time (else any class); some labels not yet arrived, some predictions missing."""
    frame = log_frame(start, hours, seed=seed, per_hour=per_hour)
    rng = np.random.default_rng(seed + 100)
    n = len(frame)
    truth = rng.choice(ANIMALS, n, p=[0.5, 0.3, 0.2])
    pred = np.where(rng.random(n) < hit_rate, truth, rng.choice(ANIMALS, n))
    frame["animal"] = pd.Series(truth, dtype=object).where(rng.random(n) >= 0.1, None)
    frame["animal_pred"] = pd.Series(pred, dtype=object).where(rng.random(n) >= 0.03, None)
    frame["confidence"] = rng.uniform(0.34, 1, n).round(3)
    return frame


def multiclass_model(**overrides: Any) -> dict[str, Any]:
    model = model_dict(
        name="zoo",
        task="multiclass_classification",
        prediction="animal_pred",
        score="confidence",
        target="animal",
    )
    return model | overrides


def write(engine: Engine, frame: pd.DataFrame, table: str) -> None:
    frame.to_sql(table, engine, index=False, if_exists="replace")


def _evidently_unless_named(model: dict[str, Any]) -> dict[str, Any]:
    checks = dict(model.get("checks") or {})
    drift = dict(checks.get("drift") or {})
    drift.setdefault("mode", "evidently")
    return model | {"checks": checks | {"drift": drift}}


def model_dict(**overrides: Any) -> dict[str, Any]:
    model: dict[str, Any] = {
        "name": "churn",
        "source": "logs",
        "table": "preds",
        "timestamp": "ts",
        "features": {"numerical": ["age", "income"], "categorical": ["plan"]},
        "prediction": "pred",
        "score": "score",
        "target": "label",
        "latency": "latency_ms",
        "reference": {"between": ["2026-03-01", "2026-03-02"]},
        "window": "1d",
        "schedule": {"every": "1d"},
    }
    model.update(overrides)
    return model


def make_config(url: str, *models: dict[str, Any], evidently: bool = True) -> Config:
    """The config of ``models``. With ``evidently`` (for tests that compare drift verdicts
    with Evidently's and scipy's), a model that does not name its drift mode is checked in
    Evidently mode; ``evidently=False`` leaves the models as written, so a test of what a
    scan does by default runs the default (calibrated) mode."""
    given = list(models) or [model_dict()]
    tree = {
        "state_db": url,
        "sources": {"logs": {"url": url}},
        "models": [_evidently_unless_named(m) for m in given] if evidently else given,
    }
    return parse_config(tree, file="test.yaml")


@pytest.fixture
def migrated(db_url: str) -> str:
    migrate.upgrade(db_url)
    return db_url


@pytest.fixture
def session(migrated: str, engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as s:
        yield s


@pytest.fixture
def engines_for() -> Iterator[Callable[[Config], SourceEngines]]:
    made: list[SourceEngines] = []

    def build(config: Config) -> SourceEngines:
        made.append(SourceEngines(config.sources))
        return made[-1]

    yield build
    for engines in made:
        engines.dispose()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)
