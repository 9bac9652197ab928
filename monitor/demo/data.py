"""Generated prediction logs for the demo: a churn classifier with two weeks of hourly traffic.

The story: for the first week the inputs look like the training data and about 86 % of
predictions are right; on day ``SLOW_DAY`` a slow dependency triples latency for one day.
From ``DRIFT_DAY`` on, customers with higher incomes on the basic plan
arrive (``income`` and ``plan`` shift, nothing else does) and the model, which never saw
them, is right only about 76 % of the time. Labels arrive 6 to 36 hours after the prediction,
in a separate table, so a scan can only judge accuracy ``label_delay`` (2 days) back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

DAYS = 14
DRIFT_DAY = 8
SLOW_DAY = 5
ACCURACY_BEFORE = 0.86
ACCURACY_AFTER = 0.76
PLANS = ("basic", "plus", "pro")
REGIONS = ("north", "south", "east", "west")


@dataclass(frozen=True)
class DemoLogs:
    predictions: pd.DataFrame
    labels: pd.DataFrame
    start: datetime
    drift_start: datetime


def generate(start: datetime, *, days: int = DAYS, seed: int = 7) -> DemoLogs:
    """Hourly traffic from ``start`` (aware UTC) for ``days`` days; labels in their own frame."""
    rng = np.random.default_rng(seed)
    times = _arrival_times(rng, start, days)
    drift_start = start + timedelta(days=DRIFT_DAY)
    shifted = np.asarray(times >= np.datetime64(drift_start.replace(tzinfo=None)))
    features = _features(rng, shifted)
    score = _score(features)
    prediction = (score >= 0.5).astype(int)
    correct = rng.random(len(times)) < np.where(shifted, ACCURACY_AFTER, ACCURACY_BEFORE)
    churned = np.where(correct, prediction, 1 - prediction)
    slow = (times >= np.datetime64(_day(start, SLOW_DAY))) & (
        times < np.datetime64(_day(start, SLOW_DAY + 1))
    )
    predictions = _predictions_frame(rng, times, features, score, prediction, slow)
    labels = _labels_frame(rng, predictions, churned)
    return DemoLogs(predictions, labels, start, drift_start)


def _day(start: datetime, day: int) -> datetime:
    return (start + timedelta(days=day)).replace(tzinfo=None)


def _arrival_times(rng: np.random.Generator, start: datetime, days: int) -> np.ndarray:
    hours = np.arange(days * 24)
    # Daily rhythm: quiet nights, busy afternoons; about 2,400 predictions a day.
    rate = 100 + 60 * np.sin((hours % 24 - 9) / 24 * 2 * np.pi)
    counts = rng.poisson(rate)
    base = np.datetime64(start.replace(tzinfo=None), "us")
    offsets = np.concatenate(
        [
            h * 3_600_000_000 + np.sort(rng.integers(0, 3_600_000_000, n))
            for h, n in zip(hours, counts, strict=True)
        ]
    )
    return base + offsets.astype("timedelta64[us]")


def _features(rng: np.random.Generator, shifted: np.ndarray) -> dict[str, np.ndarray]:
    n = len(shifted)
    income = rng.lognormal(np.where(shifted, 11.25, 10.9), 0.35, n).round(-2)
    income[rng.random(n) < 0.02] = np.nan  # some customers never state an income
    plan_p = np.where(shifted[:, None], [0.65, 0.25, 0.10], [0.35, 0.40, 0.25])
    plan_index = (rng.random(n)[:, None] > plan_p.cumsum(axis=1)).sum(axis=1)
    return {
        "age": rng.normal(41, 12, n).clip(18, 90).round(),
        "income": income,
        "tenure_months": rng.gamma(2.0, 14.0, n).round(),
        "support_calls": rng.poisson(1.3, n).astype(float),
        "plan": np.asarray(PLANS)[plan_index],
        "region": rng.choice(REGIONS, n, p=[0.3, 0.25, 0.25, 0.2]),
    }


def _score(f: dict[str, np.ndarray]) -> np.ndarray:
    logit = (
        -1.0
        + 0.45 * f["support_calls"]
        - 0.03 * f["tenure_months"]
        + 0.6 * (f["plan"] == "basic")
        - 0.01 * (f["age"] - 41)
    )
    probability: np.ndarray = 1 / (1 + np.exp(-logit))
    return probability


def _predictions_frame(
    rng: np.random.Generator,
    times: np.ndarray,
    features: dict[str, np.ndarray],
    score: np.ndarray,
    prediction: np.ndarray,
    slow: np.ndarray,
) -> pd.DataFrame:
    import pandas as pd

    n = len(times)
    frame = pd.DataFrame({"prediction_id": np.arange(1, n + 1), "predicted_at": times})
    for name, values in features.items():
        frame[name] = values
    frame["churn_score"] = score.round(4)
    frame["churn_pred"] = prediction
    latency = rng.lognormal(np.log(18), 0.45, n)
    frame["latency_ms"] = np.where(slow, latency * 3, latency).round(1)
    frame["model_version"] = "churn-2026.10"
    return frame


def _labels_frame(
    rng: np.random.Generator, predictions: pd.DataFrame, churned: np.ndarray
) -> pd.DataFrame:
    import pandas as pd

    delay = rng.uniform(6, 36, len(predictions)) * 3_600_000_000
    arrived = predictions["predicted_at"].to_numpy() + delay.astype("timedelta64[us]")
    return pd.DataFrame(
        {"prediction_id": predictions["prediction_id"], "churned": churned, "labelled_at": arrived}
    )
