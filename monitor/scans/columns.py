"""Which columns a scan compares, with which type, and how a frame splits into segments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

import numpy as np

from monitor.config.schema import ModelConfig

if TYPE_CHECKING:
    import pandas as pd

ColumnType = Literal["numerical", "categorical"]


def prediction_column(model: ModelConfig) -> tuple[str, ColumnType]:
    """The column ``prediction_drift`` compares: the predicted label, else the score."""
    if model.prediction is not None:
        kind: ColumnType = "numerical" if model.task == "regression" else "categorical"
        return model.prediction, kind
    assert model.score is not None
    return model.score, "numerical"


def target_type(model: ModelConfig) -> ColumnType:
    return "numerical" if model.task == "regression" else "categorical"


def drift_types(model: ModelConfig) -> dict[str, ColumnType]:
    """Every column with a drift test: features, the prediction and the target."""
    types: dict[str, ColumnType] = dict.fromkeys(model.features.numerical, "numerical")
    types |= dict.fromkeys(model.features.categorical, "categorical")
    column, kind = prediction_column(model)
    types.setdefault(column, kind)
    if model.target_column is not None:
        types.setdefault(model.target_column, target_type(model))
    return types


def top_segments(model: ModelConfig, frame: pd.DataFrame, *, limit: int) -> list[str]:
    """The ``limit`` most frequent segment values (as text), most frequent first."""
    if model.segment is None or model.segment not in frame.columns or frame.empty:
        return []
    counts = frame[model.segment].dropna().astype(str).value_counts(sort=True)
    return [str(value) for value in counts.index[:limit]]


def segment_frames(
    model: ModelConfig, frame: pd.DataFrame, *, limit: int, values: list[str] | None = None
) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(value, rows)`` for the given segment values, or the ``limit`` largest."""
    for value, positions in segment_positions(model, frame, limit=limit, values=values):
        yield value, frame.iloc[positions]


def segment_positions(
    model: ModelConfig, frame: pd.DataFrame, *, limit: int, values: list[str] | None = None
) -> Iterator[tuple[str, np.ndarray]]:
    """``(value, positions)``: the positions in ``frame`` of the rows of the given segment
    values, or of the ``limit`` largest (to take the same rows of another frame read from
    the same source)."""
    if model.segment is None or model.segment not in frame.columns:
        return
    chosen = values if values is not None else top_segments(model, frame, limit=limit)
    keys = frame[model.segment].astype(str).where(frame[model.segment].notna())
    for value in chosen:
        yield value, np.flatnonzero((keys == value).to_numpy())
