"""Per-model ``/metrics`` collectors: health colour and each check's latest value and verdict.

They plug into the ops router's collector list (``monitor.api.ops``); ``create_app`` and
``create_ops_app`` add them when given a config. Values come from the state DB, so every
replica reports the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from monitor.status import status_report
from monitor.store import WHOLE_WINDOW, Scan

if TYPE_CHECKING:
    from monitor.api.ops import Collector
    from monitor.config.schema import Config

HEALTH_LEVELS = {"green": 0.0, "yellow": 1.0, "red": 2.0}


def model_collectors(config: Config) -> list[Collector]:
    """Collectors bound to ``config``: health per model, value and pass per check."""

    def health(session: Session, now: datetime) -> Iterator[Metric]:
        return health_metrics(config, session, now)

    def checks(session: Session, now: datetime) -> Iterator[Metric]:
        return check_metrics(config, session, now)

    return [health, checks]


def health_metrics(config: Config, session: Session, now: datetime) -> Iterator[Metric]:
    """``monitor_model_health`` 0 green / 1 yellow / 2 red, and one-hot by colour."""
    level = GaugeMetricFamily(
        "monitor_model_health",
        "Model health: 0 green, 1 yellow, 2 red (as `monitor status`).",
        labels=["model"],
    )
    colour = GaugeMetricFamily(
        "monitor_model_health_status",
        "1 for the model's current health colour, 0 for the others.",
        labels=["model", "health"],
    )
    unacked = GaugeMetricFamily(
        "monitor_model_unacknowledged_alerts",
        "Open alerts of the model that nobody acknowledged.",
        labels=["model"],
    )
    for status in status_report(config, session=session, now=now).models:
        level.add_metric([status.name], HEALTH_LEVELS[status.health])
        for name in HEALTH_LEVELS:
            colour.add_metric([status.name, name], float(status.health == name))
        unacked.add_metric([status.name], float(status.alerts.unacknowledged))
    yield from (level, colour, unacked)


def check_metrics(config: Config, session: Session, now: datetime) -> Iterator[Metric]:
    """Each whole-window check of the model's latest judged scan: value, threshold, pass."""
    value = GaugeMetricFamily(
        "monitor_check_value", "The check's value in the latest scan.", labels=["model", "check"]
    )
    threshold = GaugeMetricFamily(
        "monitor_check_threshold",
        "The check's threshold in the latest scan.",
        labels=["model", "check"],
    )
    passed = GaugeMetricFamily(
        "monitor_check_passed",
        "1 passed, 0 failed; absent while the data is insufficient.",
        labels=["model", "check"],
    )
    for model in config.models:
        scan = _latest_judged(session, model.name)
        for result in scan.results if scan else []:
            if result.segment != WHOLE_WINDOW:
                continue
            labels = [model.name, result.check]
            if result.value is not None:
                value.add_metric(labels, result.value)
            if result.threshold is not None:
                threshold.add_metric(labels, result.threshold)
            if result.passed is not None:
                passed.add_metric(labels, float(result.passed))
    yield from (value, threshold, passed)


def _latest_judged(session: Session, model: str) -> Scan | None:
    stmt = (
        select(Scan)
        .where(Scan.model == model, Scan.status != "error")
        .order_by(Scan.window_end.desc())
        .limit(1)
        .options(selectinload(Scan.results))
    )
    return session.scalars(stmt).first()
