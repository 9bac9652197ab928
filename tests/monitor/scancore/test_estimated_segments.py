"""Per-segment estimated performance (issue 18): a segmented model gets CBPE estimates per
segment like its realised metrics, stored with their segment, the realised value filled in
per segment, shown in the status report, and judged by the ``segments:`` rule of issue 15.

Scenario: two regions, labels three days late. From day 20 the inputs of ``north`` crowd
the decision boundary (covariate shift that hurts its accuracy); ``south`` is unchanged,
and the whole window's accuracy stays above the bound. The ``estimated_accuracy`` alert
fires on north's first shifted window, listing north alone, three days before the realised
``accuracy`` alert does the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from checks.estimated import fit_binary
from monitor.config import Config
from monitor.errors import ConfigError
from monitor.scans.service import scan_all
from monitor.sources import SourceEngines
from monitor.status.report import model_status
from monitor.store import Alert, CheckResult, PerformanceEstimate, Scan
from tests.monitor.scancore.conftest import day, make_config, model_dict, write
from tests.monitor.scancore.test_estimated_scans import _days

Engines = Callable[[Config], SourceEngines]
SHIFT_DAY = 20
LAST = 30


def _frame() -> pd.DataFrame:
    north = _days(0, LAST, shifted_from=SHIFT_DAY, seed=21).assign(region="north")
    south = _days(0, LAST, shifted_from=999, seed=22).assign(region="south")
    return pd.concat([north, south], ignore_index=True).sort_values("ts", ignore_index=True)


def _config(db_url: str, thresholds: list[dict[str, object]]) -> Config:
    return make_config(
        db_url,
        model_dict(
            features={"numerical": ["x1", "x2"]},
            latency=None,
            segment="region",
            label_delay="3d",
            reference={"between": ["2026-03-01", "2026-03-04"]},
            checks={"drift": {"enabled": False}, "thresholds": thresholds},
        ),
    )


def _scan(config: Config, engines_for: Engines, session: Session, ends: list[datetime]) -> None:
    model = config.model("churn")
    reports = list(
        scan_all(
            [(model, end) for end in ends],
            config=config, engines=engines_for(config), session=session, clock=lambda e: e,
        )
    )  # fmt: skip
    assert [r.error for r in reports if r.status == "error"] == []


def _rows(frame: pd.DataFrame, first: int, region: str | None = None) -> pd.DataFrame:
    start, end = (pd.Timestamp(day(k).replace(tzinfo=None)) for k in (first, first + 1))
    rows = frame[(frame["ts"] >= start) & (frame["ts"] < end)]
    return rows if region is None else rows[rows["region"] == region]


def test_a_degrading_segment_raises_its_estimate_alert_three_days_before_the_labels(
    db_url: str, engine: object, engines_for: Engines, session: Session
) -> None:
    frame = _frame()
    write(engine, frame, "preds")  # type: ignore[arg-type]
    config = _config(
        db_url,
        [{"metric": "estimated_accuracy", "min": 0.66}, {"metric": "accuracy", "min": 0.66}],
    )
    _scan(config, engines_for, session, [day(k) for k in range(4, LAST + 1)])

    alerts = {a.check_id: a for a in session.scalars(select(Alert))}
    assert set(alerts) == {"estimated_accuracy", "accuracy"}
    estimated, realised = alerts["estimated_accuracy"], alerts["accuracy"]
    assert estimated.raised_at == day(SHIFT_DAY + 1)  # north's first shifted window
    assert realised.raised_at == day(SHIFT_DAY + 1 + 3)  # its labels, three days later
    assert [s["segment"] for s in estimated.segments] == ["north"]
    assert [s["segment"] for s in realised.segments] == ["north"]

    # the whole window passes throughout: the alert is the segment's
    whole = session.scalars(
        select(CheckResult).where(
            CheckResult.check == "estimated_accuracy", CheckResult.segment == ""
        )
    ).all()
    assert len(whole) == LAST - 3 and all(r.passed for r in whole)

    # each segment's estimate is CBPE fitted on that segment's reference rows
    scan = session.scalars(select(Scan).where(Scan.window_end == day(SHIFT_DAY + 1))).one()
    north = scan.result("estimated_accuracy", "north")
    assert north is not None and north.passed is False and north.severity == "warning"
    ref = frame[(frame["ts"] < pd.Timestamp("2026-03-04")) & (frame["region"] == "north")]
    live = _rows(frame, SHIFT_DAY, "north")
    fresh = fit_binary(ref["label"], ref["score"], predicted=ref["pred"] == 1)
    expected = fresh.estimate(live["score"], predicted=live["pred"] == 1)["accuracy"]
    assert north.value == pytest.approx(expected.value, abs=1e-12)
    south = scan.result("estimated_accuracy", "south")
    assert south is not None and south.passed is True

    # stored per segment, the realised value filled in per segment by the later scan
    stored = session.scalars(
        select(PerformanceEstimate)
        .where(PerformanceEstimate.metric == "accuracy", PerformanceEstimate.segment == "north")
        .order_by(PerformanceEstimate.window_end)
    ).all()
    assert [r.window_end for r in stored] == [day(k) for k in range(4, LAST + 1)]
    both = [r for r in stored if r.realised is not None]
    assert [r.window_end for r in both] == [day(k) for k in range(4, LAST - 2)]
    shifted = next(r for r in both if r.window_end == day(SHIFT_DAY + 1))
    truth = accuracy_score(live["label"], live["pred"])
    assert shifted.realised == pytest.approx(truth) and shifted.realised_at == day(SHIFT_DAY + 4)
    assert shifted.estimated == pytest.approx(expected.value, abs=1e-12)
    assert np.mean([abs(r.estimated - r.realised) for r in both]) <= 0.03
    segments = set(session.scalars(select(PerformanceEstimate.segment).distinct()))
    assert segments == {"", "north", "south"}

    status = model_status(config.model("churn"), session=session, now=day(LAST))
    assert status.estimates is not None
    assert set(status.estimates.segments) == {"north", "south"}
    latest = status.estimates.segments["north"].recent[0]
    assert latest.window_end == "2026-03-31T00:00:00Z"
    assert latest.metrics["accuracy"].labels == "pending"
    assert latest.metrics["accuracy"].estimated < 0.66
    assert status.estimates.segments["north"].error["accuracy"].windows == len(both)
    assert status.estimates.recent[0].metrics["accuracy"].estimated > 0.66
    assert "segment north, latest window: accuracy 0." in _text(status)


def _text(status: object) -> str:
    from monitor import views
    from monitor.status.render import render_text

    report = views.StatusReport(generated_at="2026-03-31T00:00:00Z", models=[status])  # type: ignore[list-item]
    return render_text(report)


def test_segments_false_keeps_the_estimate_to_the_whole_window_and_min_rows_holds(
    db_url: str, engine: object, engines_for: Engines, session: Session
) -> None:
    frame = _frame()
    # a region with 10 labelled reference rows: too few to fit its own CBPE
    east = _days(0, SHIFT_DAY + 1, shifted_from=999, seed=23).assign(region="east")
    east = east.groupby(east["ts"].dt.floor("D")).head(4)
    east = east[(east["ts"] >= pd.Timestamp("2026-03-02")) | (east.index % 2 == 0)]
    frame = pd.concat([frame, east], ignore_index=True)
    write(engine, frame, "preds")  # type: ignore[arg-type]
    config = _config(
        db_url,
        [
            {"metric": "estimated_accuracy", "min": 0.7, "segments": False},
            {"metric": "estimated_f1", "min": 0.1, "min_rows": 5_000},
            {"metric": "estimated_recall", "min": 0.1},
        ],
    )
    _scan(config, engines_for, session, [day(SHIFT_DAY + 1)])
    results = session.scalars(select(CheckResult)).all()
    by = {(r.check, r.segment): r for r in results}
    assert ("estimated_accuracy", "north") not in by
    assert by[("estimated_accuracy", "")].passed is True
    small = by[("estimated_f1", "north")]  # 2,000 rows < min_rows: insufficient data
    assert small.passed is None and "min_rows 5000" in (small.reason or "")
    assert small.value is not None
    few = by[("estimated_recall", "east")]
    assert few.passed is None and few.value is None
    assert few.reason == (
        "insufficient data: segment east: reference: 10 labelled rows with a score; CBPE needs 20"
    )
    assert by[("estimated_recall", "north")].passed is True
    rows = session.scalars(select(PerformanceEstimate)).all()
    assert {(r.metric, r.segment) for r in rows if r.estimated is not None} == {
        (m, s) for m in ("accuracy", "f1", "recall") for s in ("", "north", "south")
    } - {("accuracy", "north"), ("accuracy", "south")}


def test_multivariate_drift_per_segment_is_a_config_error(db_url: str) -> None:
    with pytest.raises(ConfigError, match=r"multivariate_drift.*whole window only"):
        _config(db_url, [{"metric": "multivariate_drift", "max": 2.0, "segments": True}])
