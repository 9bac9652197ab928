"""Threshold metrics of a warehouse-mode scan, from SQL aggregates where they allow it.

Row count, throughput, latency percentiles, missing shares, label coverage and the confusion
metrics (accuracy, precision, recall, f1; for multiclass from a ``GROUP BY target,
prediction`` count table) come from counts and percentiles computed by the database.
``roc_auc``, ``log_loss`` and the regression metrics need the values: just their columns of
the performance window are read and the checks library computes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from checks import metrics as m
from checks.metrics import MetricValue
from checks.multiclass import ClassCounts, from_class_counts
from checks.registry import get_metric
from monitor.config.schema import ModelConfig
from monitor.scans.performance import metric_inputs


@dataclass(frozen=True)
class WindowCounts:
    """What the database counted of one slice: live rows, performance rows and labels."""

    rows: int
    labelled: int | None
    performance_rows: int
    confusion: dict[str, int] | ClassCounts | None
    seconds: float
    percentiles: Mapping[float, float | None] = field(default_factory=dict)
    nulls: Mapping[str, int] = field(default_factory=dict)  # per missing_share column


def metric_value(
    model: ModelConfig,
    key: tuple[str, str | None],
    *,
    counts: WindowCounts,
    values: Callable[[list[str]], pd.DataFrame],
) -> MetricValue:
    """``key``'s metric over the slice, from what the database counted (``counts``);
    ``values(columns)`` reads columns of the slice's performance window, for a metric that
    needs them."""
    name, column = key
    if name == "row_count":
        return m.row_count(counts.rows)
    if name == "throughput":
        return m.throughput(counts.rows, counts.seconds)
    if name.startswith("latency_p"):
        assert model.latency is not None
        q = float(name[len("latency_p") :])
        value = counts.percentiles[q]
        if value is None:
            return m.MetricValue(
                name=name, value=None, reason="no rows with a latency", details={"rows": 0}
            )
        return m.MetricValue(name=name, value=value)
    if name == "missing_share":
        assert column is not None
        return _share("missing_share", counts.nulls[column], counts.rows, "missing")
    if name == "label_coverage":
        return _coverage(counts)
    if name in m.CONFUSION_METRICS and counts.confusion is not None:
        return _from_counts(name, counts.confusion)
    columns = [c for c in (model.timestamp, model.prediction, model.score) if c]
    return get_metric(name).compute(metric_inputs(model, values(columns)), column)


def _from_counts(name: str, counts: dict[str, int] | ClassCounts) -> MetricValue:
    """Binary confusion counts (a dict), or a multiclass :class:`ClassCounts`."""
    if isinstance(counts, ClassCounts):
        return from_class_counts(name, counts)
    return m.from_confusion(name, counts)


def _share(name: str, part: int, total: int, key: str) -> MetricValue:
    if total == 0:
        return MetricValue(name=name, value=None, reason="no rows", details={"rows": 0})
    return MetricValue(name=name, value=part / total, details={"rows": total, key: part})


def _coverage(counts: WindowCounts) -> MetricValue:
    total, labelled = counts.performance_rows, counts.labelled or 0
    if total == 0:
        return MetricValue(name="label_coverage", value=None, reason="no rows", details={"rows": 0})
    details = {"rows": total, "labelled_rows": labelled}
    return MetricValue(name="label_coverage", value=labelled / total, details=details)
