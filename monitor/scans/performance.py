"""Model-performance values of a frame, through the checks library's metric registry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
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

    # Feature arrays only where asked, and only those a metric reads (missing_share): a
    # categorical column's array is built, not viewed.
    features = model.features.all if feature_columns else []
    columns = _Columns(frame, [c for c in features if c in frame.columns])
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


class _Columns(Mapping[str, Any]):
    """``frame``'s ``names`` as arrays, each built when a metric first reads it."""

    def __init__(self, frame: pd.DataFrame, names: list[str]) -> None:
        self._frame, self._names, self._arrays = frame, names, dict[str, Any]()

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._arrays:
            self._arrays[name] = self._frame[name].to_numpy()
        return self._arrays[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class WindowInputs:
    """The registry's inputs of one window's live and performance frames, each built once,
    so that the metrics a scan asks for twice (a threshold's value and the status report's
    observed one) share their work: the confusion counts, the scored pairs, the latency
    percentiles (:class:`checks.registry.MetricInputs`)."""

    def __init__(
        self, model: ModelConfig, live: pd.DataFrame, performance: pd.DataFrame, seconds: float
    ) -> None:
        self._model, self._live, self._performance, self._seconds = (
            model,
            live,
            performance,
            seconds,
        )

    @property
    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The live and the performance frame."""
        return self._live, self._performance

    @cached_property
    def live(self) -> MetricInputs:
        return metric_inputs(
            self._model, self._live, window_seconds=self._seconds, feature_columns=True
        )

    @cached_property
    def performance(self) -> MetricInputs:
        return metric_inputs(self._model, self._performance, window_seconds=self._seconds)


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


def performance_metrics(
    model: ModelConfig, frame: pd.DataFrame, inputs: MetricInputs | None = None
) -> dict[str, dict[str, Any]]:
    """``{metric: {value, labelled, reason}}`` for every available performance metric;
    ``inputs``: ``frame``'s, if already built (:class:`WindowInputs`)."""
    inputs = inputs or metric_inputs(model, frame)
    values = {}
    for name in available_performance(model):
        result = get_metric(name).compute(inputs)
        values[name] = {"value": result.value, "labelled": result.labelled, "reason": result.reason}
    return values
