"""Normalise loaded rows: UTC timestamps, numeric columns that are numeric or an error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.config.schema import ModelConfig
from monitor.sources.errors import SourceError

if TYPE_CHECKING:
    import pandas as pd


def normalise(frame: pd.DataFrame, model: ModelConfig, *, zone: str = "UTC") -> pd.DataFrame:
    """``frame`` with the timestamp as aware UTC and numerical columns as floats.

    A numerical column holding text is an error naming the model and column, not a silent
    NaN: a drift test on coerced values would judge garbage.
    """
    if model.timestamp in frame.columns:
        frame[model.timestamp] = to_utc_series(frame[model.timestamp], zone, model=model.name)
    numeric = [*model.features.numerical, model.score, model.latency]
    if model.task == "regression":
        numeric += [model.prediction, model.target_column]
    for column in dict.fromkeys(c for c in numeric if c and c in frame.columns):
        frame[column] = _numeric(frame[column], model=model.name, column=column)
    return frame


def to_utc_series(values: pd.Series, zone: str, *, model: str) -> pd.Series:
    import pandas as pd

    try:
        if values.dtype.kind in "if":
            unit = "ms" if values.abs().max() >= 1e11 else "s"
            return pd.to_datetime(values, unit=unit, utc=True)
        parsed = pd.to_datetime(values, format="ISO8601") if values.dtype == object else values
        parsed = pd.to_datetime(parsed)
    except (ValueError, TypeError) as exc:
        raise SourceError(f"model {model!r}: timestamp column holds non-times: {exc}") from None
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(zone)
    return parsed.dt.tz_convert("UTC")


def _numeric(values: pd.Series, *, model: str, column: str) -> pd.Series:
    import pandas as pd

    if values.dtype.kind in "if":
        return values.astype("float64")
    if values.dtype.kind == "b":
        return values.astype("float64")
    try:
        return pd.to_numeric(values.astype(object).where(values.notna(), None)).astype("float64")
    except (ValueError, TypeError):
        bad = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
        example = repr(bad.iloc[0]) if len(bad) else "?"
        raise SourceError(
            f"model {model!r}: column {column!r} is numerical but holds {example}"
        ) from None
