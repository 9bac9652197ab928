"""Threshold metrics of a warehouse-mode scan, from SQL aggregates where they allow it.

Row count, throughput, latency percentiles, missing shares, label coverage and the confusion
metrics (accuracy, precision, recall, f1; for multiclass from a ``GROUP BY target,
prediction`` count table) come from counts and percentiles computed by the database.
``roc_auc``, ``log_loss`` and the regression metrics need the values: just their columns of
the performance window are read and the checks library computes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from monitor.config.schema import ModelConfig
from monitor.sources import ModelLog
from monitor.sources import warehouse as sql

if TYPE_CHECKING:
    from checks.metrics import MetricValue
    from monitor.scans.run import ScanReport


def metric_value(
    model: ModelConfig,
    log: ModelLog,
    key: tuple[str, str | None],
    *,
    rows: sa.Subquery,
    report: ScanReport,
    live: Any,
    perf: dict[str, Any],
    seconds: float,
) -> MetricValue:
    from checks import metrics as m

    name, column = key
    if name == "row_count":
        return m.row_count(live.rows)
    if name == "throughput":
        return m.throughput(live.rows, seconds)
    if name.startswith("latency_p"):
        assert model.latency is not None
        q = float(name[len("latency_p") :])
        value = sql.percentile(log, rows, model.latency, q)
        if value is None:
            return m.MetricValue(
                name=name, value=None, reason="no rows with a latency", details={"rows": 0}
            )
        return m.MetricValue(name=name, value=value)
    if name == "missing_share":
        assert column is not None
        return _share("missing_share", sql.null_count(log, rows, column), live.rows, "missing")
    if name == "label_coverage":
        return _coverage(perf)
    if name in m.CONFUSION_METRICS and perf["confusion"] is not None:
        return _from_counts(name, perf["confusion"])
    return _from_values(model, log, report, name, column)


def _from_counts(name: str, counts: Any) -> MetricValue:
    """Binary confusion counts (a dict), or a multiclass :class:`ClassCounts`."""
    from checks import metrics as m
    from checks.multiclass import ClassCounts, from_class_counts

    if isinstance(counts, ClassCounts):
        return from_class_counts(name, counts)
    return m.from_confusion(name, counts)


def _share(name: str, part: int, total: int, key: str) -> MetricValue:
    from checks.metrics import MetricValue

    if total == 0:
        return MetricValue(name=name, value=None, reason="no rows", details={"rows": 0})
    return MetricValue(name=name, value=part / total, details={"rows": total, key: part})


def _coverage(perf: dict[str, Any]) -> MetricValue:
    from checks.metrics import MetricValue

    total, labelled = perf["rows"], perf["labelled"] or 0
    if total == 0:
        return MetricValue(name="label_coverage", value=None, reason="no rows", details={"rows": 0})
    details = {"rows": total, "labelled_rows": labelled}
    return MetricValue(name="label_coverage", value=labelled / total, details=details)


def _from_values(
    model: ModelConfig, log: ModelLog, report: ScanReport, name: str, column: str | None
) -> MetricValue:
    """A metric that needs the values: read just the performance window's output columns."""
    from checks.registry import get_metric
    from monitor.scans.performance import metric_inputs

    columns = [c for c in (model.timestamp, model.prediction, model.score) if c]
    frame = log.rows(report.performance_window, columns, with_target=True)
    return get_metric(name).compute(metric_inputs(model, frame), column)
