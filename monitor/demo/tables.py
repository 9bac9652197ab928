"""The demo's log database, filled as simulated time advances."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa

from monitor.demo.data import DemoLogs
from monitor.demo.eta import eta_table

if TYPE_CHECKING:
    import pandas as pd


def _tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    predictions = sa.Table(
        "churn_predictions",
        metadata,
        sa.Column("prediction_id", sa.Integer, primary_key=True),
        sa.Column("predicted_at", sa.DateTime, nullable=False, index=True),
        sa.Column("age", sa.Float),
        sa.Column("income", sa.Float),
        sa.Column("tenure_months", sa.Float),
        sa.Column("support_calls", sa.Float),
        sa.Column("plan", sa.String(16)),
        sa.Column("region", sa.String(16)),
        sa.Column("churn_score", sa.Float),
        sa.Column("churn_pred", sa.Integer),
        sa.Column("latency_ms", sa.Float),
        sa.Column("model_version", sa.String(32)),
    )
    labels = sa.Table(
        "churn_labels",
        metadata,
        sa.Column("prediction_id", sa.Integer, primary_key=True),
        sa.Column("churned", sa.Integer, nullable=False),
        sa.Column("labelled_at", sa.DateTime, nullable=False),
    )
    return predictions, labels


class LogWriter:
    """Writes predictions made, and labels arrived, before each simulated instant."""

    def __init__(self, url: str, logs: DemoLogs, rides: pd.DataFrame) -> None:
        self.engine = sa.create_engine(url)
        self.logs = logs
        self.rides = rides
        metadata = sa.MetaData()
        self.predictions, self.labels = _tables(metadata)
        self.eta = eta_table(metadata)
        metadata.create_all(self.engine)
        self._done_until = np.datetime64("1970-01-01T00:00:00", "us")

    def advance_to(self, instant: datetime) -> None:
        until = np.datetime64(instant.replace(tzinfo=None), "us")
        preds = self.logs.predictions
        made = (preds["predicted_at"] >= self._done_until) & (preds["predicted_at"] < until)
        labels = self.logs.labels
        arrived = (labels["labelled_at"] >= self._done_until) & (labels["labelled_at"] < until)
        with self.engine.begin() as conn:
            self._insert(conn, self.predictions, preds[made])
            self._insert(conn, self.labels, labels[arrived])
            self._advance_rides(conn, until)
        self._done_until = until

    def _advance_rides(self, conn: sa.Connection, until: np.datetime64) -> None:
        """New rides go in with the actual duration only if the ride has ended; rides that
        ended since the last step get theirs now, as a production log would be updated."""
        rides = self.rides
        made = (rides["requested_at"] >= self._done_until) & (rides["requested_at"] < until)
        fresh = rides[made].drop(columns=["arrived_at"]).copy()
        fresh.loc[rides.loc[made, "arrived_at"] >= until, "eta_actual_min"] = None
        self._insert(conn, self.eta, fresh)
        ended = (
            (rides["requested_at"] < self._done_until)
            & (rides["arrived_at"] >= self._done_until)
            & (rides["arrived_at"] < until)
        )
        updates = [
            {"id": int(i), "actual": float(a)}
            for i, a in zip(
                rides.loc[ended, "ride_id"], rides.loc[ended, "eta_actual_min"], strict=True
            )
        ]
        if updates:
            stmt = (
                sa.update(self.eta)
                .where(self.eta.c.ride_id == sa.bindparam("id"))
                .values(eta_actual_min=sa.bindparam("actual"))
            )
            conn.execute(stmt, updates)

    @staticmethod
    def _insert(conn: sa.Connection, table: sa.Table, frame: object) -> None:
        import pandas as pd

        assert isinstance(frame, pd.DataFrame)
        if frame.empty:
            return
        columns = [_python_values(frame[name]) for name in frame.columns]
        records = [dict(zip(frame.columns, row, strict=True)) for row in zip(*columns, strict=True)]
        conn.execute(table.insert(), records)

    def close(self) -> None:
        self.engine.dispose()


def _python_values(values: pd.Series) -> list[object]:
    """Plain Python values for the driver: datetimes, floats, ints, str; None for missing."""
    # pandas Timestamps are datetimes, so datetime columns need no conversion beyond object.
    plain: list[object] = values.astype(object).where(values.notna(), None).tolist()
    return plain
