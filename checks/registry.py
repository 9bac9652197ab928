"""Name -> metric registry, so a config entry ``{metric: accuracy, min: 0.8}`` finds its code.

>>> metric = get_metric("accuracy")
>>> metric.compute(MetricInputs(y_true=[1, 0, 1, 1], y_pred=[1, 0, 0, 1])).value
0.75
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from checks import metrics as m
from checks.errors import ChecksError, UnknownNameError
from checks.multiclass import multiclass_metric
from checks.names import ESTIMATED, METRICS, MULTIVARIATE_DRIFT, Family


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricInputs:
    """The arrays of one window. Only those a metric needs must be set.

    ``y_true`` may hold nulls for rows whose label has not arrived. With ``y_score`` and no
    ``y_pred``, the predicted label is positive where ``y_score >= decision_threshold``.
    ``columns`` holds feature columns for per-column metrics (``missing_share``).
    With ``multiclass``, the label metrics compare ``y_pred`` with ``y_true`` class by class
    (:mod:`checks.multiclass`); ``positive_label`` and ``decision_threshold`` are not used,
    and the score metrics are errors (one score column holds no per-class probabilities).
    """

    y_true: m.ArrayLike | None = None
    y_pred: m.ArrayLike | None = None
    y_score: m.ArrayLike | None = None
    latency: m.ArrayLike | None = None
    columns: Mapping[str, m.ArrayLike] = field(default_factory=dict)
    rows: int | None = None
    window_seconds: float | None = None
    positive_label: Any = 1
    decision_threshold: float = 0.5
    multiclass: bool = False
    #: values several metrics derive alike from these arrays (the confusion counts of
    #: accuracy, precision, recall and f1; the scored pairs of roc_auc and log_loss; the
    #: latency percentiles), computed once per inputs
    _shared: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def row_total(self) -> int:
        if self.rows is not None:
            return self.rows
        for array in (self.y_true, self.y_pred, self.y_score, self.latency, *self.columns.values()):
            if array is not None:
                return len(np.asarray(array))
        raise ChecksError("row_count needs `rows` or at least one array")


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """One registered metric. ``higher_is_better`` decides whether a drop bound makes sense."""

    name: str
    family: Family
    higher_is_better: bool
    needs_labels: bool
    per_column: bool = False
    compute_fn: Callable[[MetricInputs, str | None], m.MetricValue]

    def compute(self, inputs: MetricInputs, column: str | None = None) -> m.MetricValue:
        if self.per_column and column is None:
            raise ChecksError(f"metric {self.name!r} needs a column")
        if not self.per_column and column is not None:
            raise ChecksError(f"metric {self.name!r} does not take a column (got {column!r})")
        return self.compute_fn(inputs, column)


def _need(inputs: MetricInputs, attribute: str, metric: str, what: str) -> m.ArrayLike:
    value: m.ArrayLike | None = getattr(inputs, attribute)
    if value is None:
        raise ChecksError(f"metric {metric!r} needs {what} ({attribute})")
    return value


def _binary(values: m.ArrayLike, positive_label: Any, metric: str, what: str) -> m.FloatArray:
    """1.0 for the positive label, 0.0 for the other one, NaN where missing.

    More than one other label means the model is not binary: its metrics as "is it the
    positive label" would be silently wrong, so that is an error saying what to declare."""
    array = np.asarray(values)
    positive = m.equals_label(array, positive_label)
    missing = m.null_mask(array)
    others = array[~positive & ~missing]
    if others.size and bool(np.any(others != others[0])):
        seen = ", ".join(repr(v) for v in list(dict.fromkeys(others.tolist()))[:3])
        raise ChecksError(
            f"{metric}: the {what} holds more than two classes ({seen} besides the positive label "
            f"{positive_label!r}); a binary_classification model has two: declare "
            "task: multiclass_classification"
        )
    out = positive.astype(np.float64)
    out[missing] = np.nan
    return out


def _predicted(inputs: MetricInputs, metric: str) -> m.FloatArray:
    if inputs.y_pred is not None:
        return _binary(inputs.y_pred, inputs.positive_label, metric, "prediction")
    score = np.asarray(_need(inputs, "y_score", metric, "a prediction or a score"), dtype=float)
    return np.where(np.isnan(score), np.nan, (score >= inputs.decision_threshold).astype(float))


def _binary_pair(inputs: MetricInputs, name: str) -> tuple[m.FloatArray, m.FloatArray]:
    """Truth and prediction as 1.0 (the positive label), 0.0 or NaN."""
    truth = _binary(
        _need(inputs, "y_true", name, "a target"), inputs.positive_label, name, "target"
    )
    return truth, _predicted(inputs, name)


def _label_metric(fn: Callable[..., m.MetricValue], name: str) -> Metric:
    def compute(inputs: MetricInputs, column: str | None) -> m.MetricValue:
        if inputs.multiclass:
            truth = _need(inputs, "y_true", name, "a target")
            return multiclass_metric(name, truth, _need(inputs, "y_pred", name, "a prediction"))
        if name in m.CONFUSION_METRICS:  # fn is m.from_confusion of these counts
            counts = inputs._shared.get("confusion")
            if counts is None:
                counts = m.confusion_counts(*_binary_pair(inputs, name), positive_label=1.0)
                inputs._shared["confusion"] = counts
            return m.from_confusion(name, counts)
        return fn(*_binary_pair(inputs, name), positive_label=1.0)

    return _metric(name, compute)


def _metric(name: str, compute: Callable[[MetricInputs, str | None], m.MetricValue]) -> Metric:
    """``compute`` under ``name``, with the family and direction :mod:`checks.names` lists."""
    spec = METRICS[name]
    return Metric(
        name=name,
        family=spec.family,
        higher_is_better=spec.higher_is_better,
        needs_labels=spec.needs_labels,
        per_column=spec.per_column,
        compute_fn=compute,
    )


def _score_metric(fn: Callable[..., m.MetricValue], name: str) -> Metric:
    """``fn`` takes the labelled rows' truth and score (:func:`checks.metrics.scored_pairs`),
    picked out once per inputs for ``roc_auc`` and ``log_loss`` alike."""

    def compute(inputs: MetricInputs, column: str | None) -> m.MetricValue:
        if inputs.multiclass:
            raise ChecksError(
                f"metric {name!r} needs per-class probabilities, which one score column "
                "cannot give; it is not available for multiclass classification"
            )
        pairs = inputs._shared.get("scored")
        if pairs is None:
            truth = _need(inputs, "y_true", name, "a target")
            score = _need(inputs, "y_score", name, "a score or probability")
            pairs = m.scored_pairs(truth, score, inputs.positive_label)
            inputs._shared["scored"] = pairs
        return fn(*pairs)

    return _metric(name, compute)


def _regression_metric(fn: Callable[..., m.MetricValue], name: str) -> Metric:
    def compute(inputs: MetricInputs, column: str | None) -> m.MetricValue:
        truth = _need(inputs, "y_true", name, "a target")
        return fn(truth, _need(inputs, "y_pred", name, "a prediction"))

    return _metric(name, compute)


def _fitted(name: str) -> Metric:
    """A metric judged by a model fitted on the reference, not computed from arrays."""

    def compute(inputs: MetricInputs, column: str | None) -> m.MetricValue:
        raise ChecksError(
            f"metric {name!r} needs a fit on the reference (checks.estimated, "
            "checks.multivariate); it is not computed from one window's arrays"
        )

    return _metric(name, compute)


def _throughput(inputs: MetricInputs, column: str | None) -> m.MetricValue:
    if inputs.window_seconds is None:
        raise ChecksError("metric 'throughput' needs the window length (window_seconds)")
    return m.throughput(inputs.row_total(), inputs.window_seconds)


def latency_percentiles(inputs: MetricInputs, qs: Sequence[float]) -> dict[float, m.MetricValue]:
    """``latency_p{q}`` of ``inputs`` for each of ``qs``: those not yet computed for these
    inputs from one partition of the latencies, the others as computed before."""
    known: dict[float, m.MetricValue] = inputs._shared.setdefault("latency", {})
    wanted = [q for q in dict.fromkeys(qs) if q not in known]
    if wanted:
        latency = _need(inputs, "latency", f"latency_p{wanted[0]:g}", "latencies")
        known.update(m.latency_percentiles(latency, wanted))
    return {q: known[q] for q in qs}


def _latency(q: float) -> Callable[[MetricInputs, str | None], m.MetricValue]:
    def compute(inputs: MetricInputs, column: str | None) -> m.MetricValue:
        return latency_percentiles(inputs, [q])[q]

    return compute


def _missing_share(inputs: MetricInputs, column: str | None) -> m.MetricValue:
    assert column is not None  # Metric.compute guarantees it
    if column not in inputs.columns:
        raise ChecksError(f"metric 'missing_share' needs column {column!r}, which was not given")
    return m.missing_share(inputs.columns[column])


def _build() -> dict[str, Metric]:
    items = [
        _label_metric(m.accuracy, "accuracy"),
        _label_metric(m.precision, "precision"),
        _label_metric(m.recall, "recall"),
        _label_metric(m.f1, "f1"),
        _score_metric(m.roc_auc_of, "roc_auc"),
        _score_metric(m.log_loss_of, "log_loss"),
        _regression_metric(m.mae, "mae"),
        _regression_metric(m.rmse, "rmse"),
        _regression_metric(m.mape, "mape"),
        _regression_metric(m.r2, "r2"),
        _metric("row_count", lambda i, c: m.row_count(i.row_total())),
        _metric("throughput", _throughput),
        _metric("latency_p50", _latency(50)),
        _metric("latency_p95", _latency(95)),
        _metric("latency_p99", _latency(99)),
        _metric("missing_share", _missing_share),
        _metric(
            "label_coverage",
            lambda i, c: m.label_coverage(_need(i, "y_true", "label_coverage", "a target")),
        ),
        *(_fitted(name) for name in ESTIMATED),
        _fitted(MULTIVARIATE_DRIFT),
    ]
    return {metric.name: metric for metric in items}


@functools.cache
def _registry() -> dict[str, Metric]:
    return _build()


def metric_names() -> list[str]:
    return sorted(_registry())


def get_metric(name: str) -> Metric:
    """The metric registered as ``name``; an unknown name raises, listing the known ones."""
    registry = _registry()
    try:
        return registry[name]
    except KeyError:
        raise UnknownNameError("metric", name, registry) from None
