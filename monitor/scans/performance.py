"""Model-performance values of a frame, through the checks library's metric registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from checks.registry import MetricInputs, get_metric
from monitor.config.schema import (
    CLASSIFICATION_METRICS,
    LABEL_CLASSIFICATION_METRICS,
    PROBABILITY_METRICS,
    REGRESSION_METRICS,
    ModelConfig,
)

if TYPE_CHECKING:
    import pandas as pd


def metric_inputs(
    model: ModelConfig,
    frame: pd.DataFrame,
    *,
    window_seconds: float | None = None,
    feature_columns: bool = False,
) -> MetricInputs:
    """The arrays of ``frame`` the registry's metrics read."""

    def column(name: str | None) -> Any:
        return frame[name].to_numpy() if name and name in frame.columns else None

    # Feature arrays only where asked: a categorical column's array is built, not viewed.
    features = model.features.all if feature_columns else []
    columns = {c: frame[c].to_numpy() for c in features if c in frame.columns}
    return MetricInputs(
        y_true=column(model.target_column),
        y_pred=column(model.prediction),
        y_score=column(model.score),
        latency=column(model.latency),
        columns=columns,
        rows=len(frame),
        window_seconds=window_seconds,
        positive_label=model.positive_label,
        decision_threshold=model.decision_threshold,
        multiclass=model.task == "multiclass_classification",
    )


def available_performance(model: ModelConfig) -> list[str]:
    """Performance metrics this model's columns allow."""
    if model.target_column is None:
        return []
    if model.task == "regression":
        return list(REGRESSION_METRICS)
    if model.task == "multiclass_classification":  # one score column has no per-class probabilities
        return list(LABEL_CLASSIFICATION_METRICS)
    return [
        m for m in CLASSIFICATION_METRICS if model.score is not None or m not in PROBABILITY_METRICS
    ]


def performance_metrics(model: ModelConfig, frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``{metric: {value, labelled, reason}}`` for every available performance metric."""
    inputs = metric_inputs(model, frame)
    values = {}
    for name in available_performance(model):
        result = get_metric(name).compute(inputs)
        values[name] = {"value": result.value, "labelled": result.labelled, "reason": result.reason}
    return values
