"""The issue-15 scenario: a house-price regression model, 8 districts of very different sizes,
labels 3 days late in a separate table, a 30-window backfill with one real shift in its last
10 windows, one drift check that flips every window and one that breaks for two windows.

Only the public surface is used (a config file, ``monitor scan --from/--to``, the fake Slack),
so ``bench/alert_volume.py`` runs the very same scenario against an older checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import create_engine

# Rows per day: three districts below checks.drift.min_rows and min_labels (100).
DISTRICTS = {
    "central": 800,
    "north": 500,
    "east": 300,
    "south": 200,
    "west": 120,
    "harbor": 60,
    "hills": 30,
    "farm": 12,
}
SMALL = ("harbor", "hills", "farm")
REFERENCE_DAYS = 7
WINDOWS = 30
# The backfill ends with the latest window (today 00:00 UTC), as a new user's would: data
# that ended weeks ago would also (rightly) raise `stale`.
START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
    days=REFERENCE_DAYS + WINDOWS
)
SHIFT_FROM = 20  # live day index: sqft grows and prices with it, to the end
FLIPS = "drift:rooms"  # shifted on odd live days only: fires and recovers every window
BLIP = (5, 6)  # live days on which lot jumps: a drift alert that opens and closes inside


def first_window_end() -> datetime:
    return START + timedelta(days=REFERENCE_DAYS + 1)


def last_window_end() -> datetime:
    return START + timedelta(days=REFERENCE_DAYS + WINDOWS)


def frames(seed: int = 15) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sales, prices): one row per sale; the price of each sale, keyed by id."""
    rng = np.random.default_rng(seed)
    days = [_day(rng, d) for d in range(REFERENCE_DAYS + WINDOWS)]
    sales = pd.concat(days, ignore_index=True)
    sales.insert(0, "id", np.arange(1, len(sales) + 1))
    prices = sales[["id", "price"]].copy()
    return sales.drop(columns=["price"]), prices


def _day(rng: np.random.Generator, day: int) -> pd.DataFrame:
    live = day - REFERENCE_DAYS  # < 0: the reference week
    n = sum(DISTRICTS.values())
    district = np.repeat(list(DISTRICTS), list(DISTRICTS.values()))
    shifted = live >= SHIFT_FROM
    sqft = rng.normal(1500 + (400 if shifted else 0), 400, n).round()
    age = rng.uniform(0, 80, n).round()
    rooms = rng.normal(5 + (1.5 if live >= 0 and live % 2 == 1 else 0), 1.5, n).round(1)
    lot = rng.lognormal(6 + (1.0 if live in BLIP else 0), 0.5, n).round()
    pred = 100 * sqft - 500 * age + 50_000
    error = rng.normal(60_000 if shifted else 0, 20_000, n)
    stamp = pd.Timestamp((START + timedelta(days=day)).replace(tzinfo=None))
    return pd.DataFrame(
        {
            "ts": stamp + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"),
            "district": district,
            "sqft": sqft,
            "age": age,
            "rooms": rooms,
            "lot": lot,
            "kind": rng.choice(["house", "flat", "townhouse"], n, p=[0.5, 0.3, 0.2]),
            "garage": rng.choice(["yes", "no"], n),
            "pred": pred.round(),
            "price": (pred + error).round(),
        }
    )


def model() -> dict[str, Any]:
    reference_end = START + timedelta(days=REFERENCE_DAYS)
    return {
        "name": "houses",
        "source": "sales",
        "table": "sales",
        "timestamp": "ts",
        "task": "regression",
        "features": {
            "numerical": ["sqft", "age", "rooms", "lot"],
            "categorical": ["kind", "garage"],
        },
        "prediction": "pred",
        "target": {"table": "prices", "key": "id", "column": "price"},
        "label_delay": "3d",
        "segment": "district",
        "reference": {"between": [START.isoformat(), reference_end.isoformat()]},
        "window": "1d",
        "schedule": {"every": "1d"},
        "checks": {
            "drift": {
                # the default false_alarm_rate (0.01 per scan, split over the scan's 6 slices x
                # 8 columns): about one false drift alert in 100 scans of unchanged data
                "per_column": {c: {"severity": "warning"} for c in ("sqft", "rooms", "lot")},
            },
            "thresholds": [
                {"metric": "row_count", "min": 1000},
                {"metric": "mae", "max": 30_000},
            ],
        },
    }


def write_data(url: str, seed: int = 15) -> None:
    sales, prices = frames(seed)
    engine = create_engine(url)
    try:
        sales.to_sql("sales", engine, index=False, if_exists="replace", chunksize=5_000)
        prices.to_sql("prices", engine, index=False, if_exists="replace", chunksize=5_000)
    finally:
        engine.dispose()


def write_config(url: str, slack_url: str, folder: Path, **model_changes: Any) -> Path:
    tree = {
        "state_db": url,
        "sources": {"sales": {"url": url}},
        "slack": {"token": "xoxb-houses", "channel": "#ml-alerts", "api_url": slack_url},
        "models": [model() | model_changes],
    }
    path = folder / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


def backfill_args(config: Path, *extra: str) -> list[str]:
    return [
        "scan",
        "houses",
        "--from",
        first_window_end().isoformat(),
        "--to",
        last_window_end().isoformat(),
        "-c",
        str(config),
        *extra,
    ]


@dataclass(frozen=True)
class Posts:
    """What the backfill said in Slack."""

    parents: int  # chat.postMessage outside a thread
    replies: int  # chat.postMessage in a thread
    edits: int  # chat.update

    @property
    def posts(self) -> int:
        return self.parents + self.replies


def count(calls: list[Any]) -> Posts:
    posts = [c for c in calls if c.method == "chat.postMessage"]
    replies = sum(1 for c in posts if c.params.get("thread_ts"))
    edits = sum(1 for c in calls if c.method == "chat.update")
    return Posts(parents=len(posts) - replies, replies=replies, edits=edits)
