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

from checks.estimated import fit_binary
from checks.multivariate import fit_reconstruction
from monitor import views
from monitor.config import Config
from monitor.errors import ConfigError
from monitor.run.retention import prune_scans
from monitor.scans.service import scan_all
from monitor.sources import ReferenceReader, SourceEngines
from monitor.status.render import render_text
from monitor.status.report import model_status
from monitor.store import Alert, CheckResult, DriftCalibration, PerformanceEstimate, Scan
from tests.monitor.scancore.conftest import T0, day, make_config, model_dict, write

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
        x3 = x1 + rng.normal(0, 0.3 * sd[0], ROWS_PER_DAY)  # correlated with x1
        ts = pd.Timestamp(day(d).replace(tzinfo=None)) + pd.to_timedelta(
            np.sort(rng.uniform(0, 86_400, ROWS_PER_DAY)), unit="s"
        )
        parts.append(
            pd.DataFrame(
                {
                    "ts": ts,
                    "x1": x1.round(4),
                    "x2": x2.round(4),
                    "x3": x3.round(4),
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
    shown = render_text(views.StatusReport(generated_at="2026-04-06T00:00:00Z", models=[status]))
    assert f"window ending 2026-04-06 00:00Z: {accuracy.text}" in shown
    assert "estimation error (mean |realised - estimated|): accuracy 0.0" in shown


def test_the_fits_are_cached_with_the_reference_and_read_back(
    db_url: str,
    engine: Engine,
    engines_for: Engines,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = _days(0, 6, shifted_from=99, seed=11)
    write(engine, frame, "preds")
    config = make_config(
        db_url,
        _model(
            features={"numerical": ["x1", "x2", "x3"]},
            checks={
                "drift": {"enabled": False},
                "multivariate_drift": {"enabled": True},
                "thresholds": [{"metric": "estimated_roc_auc", "max_drop": 0.05}],
            },
        ),
    )
    _backfill(config, engines_for, session, [day(4)])
    keys = session.scalars(select(DriftCalibration.key).order_by(DriftCalibration.key)).all()
    assert [k.split("|")[1] for k in keys] == ["cbpe", "pca"]

    def unread(*args: object, **kwargs: object) -> pd.DataFrame:
        raise AssertionError("the reference rows were read again")

    monkeypatch.setattr(ReferenceReader, "load", unread)
    _backfill(config, engines_for, session, [day(5)])
    scan = session.scalars(select(Scan).where(Scan.window_end == day(5))).one()
    results = {r.check: r for r in scan.results}
    # the same fit made afresh from the rows gives the same estimate
    ref = frame[frame["ts"] < pd.Timestamp("2026-03-04")]
    live = frame[
        (frame["ts"] >= pd.Timestamp("2026-03-05")) & (frame["ts"] < pd.Timestamp("2026-03-06"))
    ]
    fresh = fit_binary(ref["label"], ref["score"], predicted=ref["pred"] == 1)
    expected = fresh.estimate(live["score"], predicted=live["pred"] == 1)["roc_auc"]
    assert results["estimated_roc_auc"].value == pytest.approx(expected.value, abs=1e-12)
    assert results["estimated_roc_auc"].passed is True
    pca = fit_reconstruction(ref, ["x1", "x2", "x3"], chunk_size=2_000).evaluate(live)
    assert pca.components == 1
    assert results["multivariate_drift"].value == pytest.approx(pca.value, abs=1e-12)
    assert results["multivariate_drift"].passed is (not pca.drifted)


def test_a_multiclass_model_is_estimated_one_vs_rest_from_its_class_scores(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    rng = np.random.default_rng(5)
    n = 6_000
    logits = rng.normal(size=(n, 3)) * 2
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    label = np.array([rng.choice(3, p=row) for row in p])
    ts = pd.Timestamp(T0.replace(tzinfo=None)) + pd.to_timedelta(
        np.sort(rng.uniform(0, 6 * 86_400, n)), unit="s"
    )
    frame = pd.DataFrame(
        {
            "ts": ts,
            "x1": logits[:, 0],
            "x2": logits[:, 1],
            "p0": p[:, 0],
            "p1": p[:, 1],
            "p2": p[:, 2],
            "pred": p.argmax(axis=1),
            "label": label,
        }
    )
    write(engine, frame, "preds")
    config = make_config(
        db_url,
        _model(
            task="multiclass_classification",
            score=None,
            class_scores={"0": "p0", "1": "p1", "2": "p2"},
            checks={
                "drift": {"enabled": False},
                "thresholds": [{"metric": "estimated_accuracy", "min": 0.5}],
            },
        ),
    )
    _backfill(config, engines_for, session, [day(4), day(5), day(6)])
    rows = session.scalars(
        select(PerformanceEstimate).order_by(PerformanceEstimate.window_end)
    ).all()
    assert [r.window_end for r in rows] == [day(4), day(5), day(6)]
    for row in rows:  # no label delay: the realised value comes with the estimate
        assert row.realised is not None and abs(row.estimated - row.realised) < 0.03
        assert row.lower <= row.estimated <= row.upper
    keys = session.scalars(select(DriftCalibration.key)).all()
    assert keys == ["fit|cbpe|label|pred|('0', 'p0')|('1', 'p1')|('2', 'p2')"]  # cached as JSON


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
            "models[churn]: checks.thresholds (estimated_accuracy): a multiclass model needs "
            "one score column per class",
        ),
        (
            {
                "warehouse": True,
                "checks": {"thresholds": [{"metric": "estimated_roc_auc", "min": 0.7}]},
            },
            "models[churn]: checks.thresholds (estimated_roc_auc): not supported in warehouse mode",
        ),
        (
            {"warehouse": True, "checks": {"multivariate_drift": {"enabled": True}}},
            "models[churn]: checks.multivariate_drift: not supported in warehouse mode",
        ),
        (
            {"score": None, "checks": {"thresholds": [{"metric": "estimated_f1", "min": 0.7}]}},
            "models[churn]: checks.thresholds (estimated_f1): needs score",
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


def test_retention_prunes_estimates_with_the_scans_of_their_age(
    engine: Engine, session: Session
) -> None:
    for k in (1, 2, 3):
        session.add(
            PerformanceEstimate(
                model="churn", metric="accuracy", window_start=day(k - 1), window_end=day(k),
                estimated=0.8,
            )
        )  # fmt: skip
    session.commit()
    prune_scans(lambda: Session(engine), before=day(2))
    session.expire_all()
    kept = session.scalars(select(PerformanceEstimate.window_end)).all()
    assert sorted(kept) == [day(2), day(3)]
