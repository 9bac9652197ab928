"""Normalise loaded rows: UTC timestamps, numeric columns that are numeric or an error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.config.schema import ModelConfig
from monitor.sources.errors import SourceError

if TYPE_CHECKING:
    import pandas as pd


def normalise(frame: pd.DataFrame, model: ModelConfig, *, zone: str = "UTC") -> pd.DataFrame:
    """``frame`` with the timestamp as aware UTC, numerical columns as floats and text
    categorical features as pandas categoricals (whichever path read them).

    A numerical column holding text is an error naming the model and column, not a silent
    NaN: a drift test on coerced values would judge garbage.
    """
    if model.timestamp in frame.columns:
        frame[model.timestamp] = to_utc_series(frame[model.timestamp], zone, model=model.name)
    numeric = [*model.features.numerical, model.score, *model.class_scores.values()]
    numeric.append(model.latency)
    if model.task == "regression":
        numeric += [model.prediction, model.target_column]
    for column in dict.fromkeys(c for c in numeric if c and c in frame.columns):
        if frame[column].dtype != "float64":  # assigning copies: only columns that change
            frame[column] = _numeric(frame[column], model=model.name, column=column)
    for column in model.features.categorical:
        if column in frame.columns and _all_text(frame[column]):
            frame[column] = frame[column].astype("category")
    return frame


def _all_text(values: pd.Series) -> bool:
    """Whether ``values`` is an object column of strings (and nulls), as drivers return text.
    Mixed values (SQLite lets a column hold anything) stay objects, compared as they are."""
    import pandas as pd

    return (
        bool(values.dtype == object) and pd.api.types.infer_dtype(values, skipna=True) == "string"
    )


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

    if values.dtype.kind in "ifb":
        return values.astype("float64", copy=False)  # a float column stays as it is
    try:
        return pd.to_numeric(values.astype(object).where(values.notna(), None)).astype("float64")
    except (ValueError, TypeError):
        bad = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
        example = repr(bad.iloc[0]) if len(bad) else "?"
        raise SourceError(
            f"model {model!r}: column {column!r} is numerical but holds {example}"
        ) from None
