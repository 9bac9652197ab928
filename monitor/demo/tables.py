"""The demo's log database, filled as simulated time advances."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import sqlalchemy as sa

from monitor.demo.data import DemoLogs


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

    def __init__(self, url: str, logs: DemoLogs) -> None:
        self.engine = sa.create_engine(url)
        self.logs = logs
        self.predictions, self.labels = _tables(sa.MetaData())
        self.predictions.metadata.create_all(self.engine)
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
        self._done_until = until

    @staticmethod
    def _insert(conn: sa.Connection, table: sa.Table, frame: object) -> None:
        import pandas as pd

        assert isinstance(frame, pd.DataFrame)
        if frame.empty:
            return
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        for record in records:
            for key, value in record.items():
                if isinstance(value, pd.Timestamp):
                    record[key] = value.to_pydatetime()
        conn.execute(table.insert(), records)

    def close(self) -> None:
        self.engine.dispose()
