"""Estimated performance and multivariate drift in the scan pipeline (issue 18).

Scenario 1: covariate shift that hurts accuracy, labels three days late. The
``estimated_accuracy`` alert fires on the first shifted window, three days before the
realised ``accuracy`` alert, and over 30 windows the estimate stays within 0.02 of the
realised accuracy on average. Scenario 2: only the correlation of two features changes; no
column drifts and ``multivariate_drift`` fires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.errors import ConfigError
from monitor.scans.service import scan_all
from monitor.sources import SourceEngines
from monitor.status.report import model_status
from monitor.store import Alert, CheckResult, PerformanceEstimate, Scan
from tests.monitor.scancore.conftest import day, make_config, model_dict, write

Engines = Callable[[Config], SourceEngines]
ROWS_PER_DAY = 2_000
SHIFT_DAY = 20  # the first shifted window is [day 20, day 21)


def _days(first: int, last: int, *, shifted_from: int, seed: int) -> pd.DataFrame:
    """Rows of days [first, last): the score is the true probability of the label (a
    calibrated model); from ``shifted_from`` on, the inputs crowd the decision boundary,
    so the same model gets fewer rows right (covariate shift, P(label | x) unchanged)."""
    rng = np.random.default_rng(seed)
    parts = []
    for d in range(first, last):
        shifted = d >= shifted_from
        sd = (0.25, 0.3) if shifted else (1.0, 1.0)
        x1 = rng.normal(0, sd[0], ROWS_PER_DAY)
        x2 = rng.normal(0, sd[1], ROWS_PER_DAY)
        p = 1 / (1 + np.exp(-(2 * x1 + x2)))
        ts = pd.Timestamp(day(d).replace(tzinfo=None)) + pd.to_timedelta(
            np.sort(rng.uniform(0, 86_400, ROWS_PER_DAY)), unit="s"
        )
        parts.append(
            pd.DataFrame(
                {
                    "ts": ts,
                    "x1": x1.round(4),
                    "x2": x2.round(4),
                    "score": p.round(6),
                    "pred": (p >= 0.5).astype(int),
                    "label": (rng.uniform(size=ROWS_PER_DAY) < p).astype(int),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _model(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "features": {"numerical": ["x1", "x2"]},
        "latency": None,
        "reference": {"between": ["2026-03-01", "2026-03-04"]},
    }
    return model_dict(**(base | overrides))


def _backfill(config: Config, engines_for: Engines, session: Session, ends: list[datetime]) -> None:
    model = config.model("churn")
    plan = [(model, end) for end in ends]
    reports = list(
        scan_all(
            plan, config=config, engines=engines_for(config), session=session, clock=lambda e: e
        )
    )
    assert [r.status for r in reports if r.status == "error"] == [], [r.error for r in reports]


def _raised(session: Session, check: str) -> list[datetime]:
    return list(
        session.scalars(select(Alert.raised_at).where(Alert.check_id == check).order_by(Alert.id))
    )


def test_estimated_accuracy_alerts_three_days_before_the_labels_and_tracks_the_realised(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = _days(0, 36, shifted_from=SHIFT_DAY, seed=7)
    write(engine, frame, "preds")
    config = make_config(
        db_url,
        _model(
            label_delay="3d",
            checks={
                "drift": {"enabled": False},
                "thresholds": [
                    {"metric": "estimated_accuracy", "min": 0.7},
                    {"metric": "accuracy", "min": 0.7},
                ],
            },
        ),
    )
    _backfill(config, engines_for, session, [day(k) for k in range(4, 37)])

    assert _raised(session, "estimated_accuracy") == [day(SHIFT_DAY + 1)]
    assert _raised(session, "accuracy") == [day(SHIFT_DAY + 1 + 3)]

    rows = session.scalars(
        select(PerformanceEstimate)
        .where(PerformanceEstimate.metric == "accuracy")
        .order_by(PerformanceEstimate.window_end)
    ).all()
    both = [r for r in rows if r.realised is not None]
    assert len(both) == 30 and [r.window_end for r in both] == [day(k) for k in range(4, 34)]
    # the realised value is scikit-learn's accuracy of the window's rows
    first = frame[
        (frame["ts"] >= pd.Timestamp("2026-03-04")) & (frame["ts"] < pd.Timestamp("2026-03-05"))
    ]
    assert both[0].realised == pytest.approx(accuracy_score(first["label"], first["pred"]))
    assert both[0].realised_at == day(7)  # brought by the scan three days later
    errors = [abs(r.estimated - r.realised) for r in both]
    assert np.mean(errors) <= 0.02
    assert all(r.lower <= r.estimated <= r.upper for r in both)
    # labels of the last three windows are still pending
    assert [r.window_end for r in rows if r.realised is None] == [day(34), day(35), day(36)]

    status = model_status(config.model("churn"), session=session, now=day(36))
    assert status.estimates is not None
    latest = status.estimates.recent[0]
    assert latest.window_end == "2026-04-06T00:00:00Z"
    accuracy = latest.metrics["accuracy"]
    assert accuracy.labels == "pending" and accuracy.realised is None
    assert accuracy.text.startswith(f"accuracy {accuracy.estimated:.2f} (estimated ± ")
    assert accuracy.text.endswith("labels pending)")
    tracked = status.estimates.error["accuracy"]
    assert tracked.windows == 30 and tracked.mean_abs_error == pytest.approx(np.mean(errors))


def test_a_correlation_change_fires_multivariate_drift_and_no_column_drift(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    rng = np.random.default_rng(3)
    parts = []
    for d in range(24):
        rho = -0.9 if d >= 22 else 0.9  # the marginals stay N(0, 1)
        x1 = rng.normal(size=500)
        x2 = rho * x1 + np.sqrt(1 - rho**2) * rng.normal(size=500)
        ts = pd.Timestamp(day(d).replace(tzinfo=None)) + pd.to_timedelta(
            np.sort(rng.uniform(0, 86_400, 500)), unit="s"
        )
        p = 1 / (1 + np.exp(-x1))
        parts.append(
            pd.DataFrame({"ts": ts, "x1": x1, "x2": x2, "score": p, "pred": (p >= 0.5).astype(int)})
        )
    write(engine, pd.concat(parts, ignore_index=True), "preds")
    config = make_config(
        db_url,
        _model(
            target=None,
            reference={"between": ["2026-03-01", "2026-03-21"]},
            checks={"drift": {"mode": "calibrated"}, "multivariate_drift": {"enabled": True}},
        ),
    )
    _backfill(config, engines_for, session, [day(k) for k in range(21, 25)])

    scans = session.scalars(select(Scan).order_by(Scan.window_end)).all()
    verdicts = {}
    for scan in scans:
        results = {r.check: r for r in scan.results if r.segment == ""}
        assert results["drift:x1"].passed is True and results["drift:x2"].passed is True
        assert results["dataset_drift"].passed is True
        verdicts[scan.window_end] = results["multivariate_drift"].passed
    assert verdicts == {day(21): True, day(22): True, day(23): False, day(24): False}
    assert _raised(session, "multivariate_drift") == [day(23)]
    fired = session.scalars(
        select(CheckResult).where(
            CheckResult.check == "multivariate_drift", CheckResult.passed.is_(False)
        )
    ).first()
    assert fired is not None and fired.value > fired.threshold
    assert "reference chunks" in fired.details["how"]


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (
            {
                "task": "multiclass_classification",
                "checks": {"thresholds": [{"metric": "estimated_accuracy", "min": 0.7}]},
            },
            "model 'churn', checks.thresholds (estimated_accuracy): a multiclass model needs "
            "one score column per class",
        ),
        (
            {
                "warehouse": True,
                "checks": {"thresholds": [{"metric": "estimated_roc_auc", "min": 0.7}]},
            },
            "model 'churn', checks.thresholds (estimated_roc_auc): not supported in warehouse mode",
        ),
        (
            {"warehouse": True, "checks": {"multivariate_drift": {"enabled": True}}},
            "model 'churn', checks.multivariate_drift: not supported in warehouse mode",
        ),
        (
            {"score": None, "checks": {"thresholds": [{"metric": "estimated_f1", "min": 0.7}]}},
            "model 'churn', checks.thresholds (estimated_f1): needs score",
        ),
    ],
    ids=[
        "multiclass-without-class-scores",
        "warehouse-estimate",
        "warehouse-multivariate",
        "no-score",
    ],
)
def test_a_config_the_estimates_cannot_serve_is_an_error_naming_model_and_key(
    overrides: dict[str, object], says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config("sqlite://", _model(**overrides))
    assert says in str(raised.value)
