"""The demo's second model: arrival-time regression that stays healthy.

Ride requests in four cities, about 2,400 a day; the actual duration is known when the ride
ends (minutes later) and is written into the prediction row then. Nothing drifts, so this
model shows what green looks like, with per-city segments.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa

if TYPE_CHECKING:
    import pandas as pd

CITIES = ("lisbon", "porto", "braga", "faro")
HOUR_US = 3_600_000_000


def generate_eta(start: datetime, *, days: int, seed: int = 12) -> pd.DataFrame:
    """One row per ride with ``arrived_at`` (when the actual duration becomes known)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    counts = rng.poisson(100, days * 24)
    hours = np.repeat(np.arange(days * 24), counts)
    base = np.datetime64(start.replace(tzinfo=None), "us")
    requested = base + (hours * HOUR_US + rng.integers(0, HOUR_US, len(hours))).astype(
        "timedelta64[us]"
    )
    n = len(requested)
    distance = rng.gamma(2.0, 2.5, n).round(2)
    traffic = rng.beta(2, 5, n).round(3)
    actual = 3 + 2.2 * distance * (1 + traffic) + rng.normal(0, 2, n)
    predicted = 3 + 2.2 * distance * (1 + traffic) + rng.normal(0, 2.5, n)
    frame = pd.DataFrame(
        {
            "ride_id": np.arange(1, n + 1),
            "requested_at": requested,
            "distance_km": distance,
            "traffic_index": traffic,
            "city": rng.choice(CITIES, n, p=[0.3, 0.3, 0.2, 0.2]),
            "vehicle": rng.choice(["car", "van", "bike"], n, p=[0.7, 0.2, 0.1]),
            "eta_pred_min": predicted.clip(1).round(1),
            "eta_actual_min": actual.clip(1).round(1),
            "latency_ms": rng.lognormal(np.log(9), 0.3, n).round(1),
        }
    )
    frame["arrived_at"] = frame["requested_at"] + pd.to_timedelta(frame["eta_actual_min"], "min")
    return frame


def eta_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "eta_predictions",
        metadata,
        sa.Column("ride_id", sa.Integer, primary_key=True),
        sa.Column("requested_at", sa.DateTime, nullable=False, index=True),
        sa.Column("distance_km", sa.Float),
        sa.Column("traffic_index", sa.Float),
        sa.Column("city", sa.String(16)),
        sa.Column("vehicle", sa.String(16)),
        sa.Column("eta_pred_min", sa.Float),
        sa.Column("eta_actual_min", sa.Float),
        sa.Column("latency_ms", sa.Float),
    )
