"""Evidently 0.7's default method choice and column type inference."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from checks.drift.profile import ColumnProfile, ColumnType
from checks.errors import ColumnError

#: Evidently's switch from p-value tests to distances (reference rows after nulls are dropped)
SMALL_REFERENCE_ROWS = 1000
#: Evidently's INTEGER_CARDINALITY_LIMIT: integer columns with at most this many values are
#: categorical
INTEGER_CARDINALITY_LIMIT = 10
#: a string column with more distinct values than this share of its values is text to Evidently
NEAR_UNIQUE_SHARE = 0.5


def default_method(reference: ColumnProfile, current: ColumnProfile) -> str:
    """Evidently's ``_get_default_stattest``: by reference rows N and distinct values U."""
    distinct = union_distinct(reference, current, cap=6)
    if reference.count <= SMALL_REFERENCE_ROWS:
        if reference.column_type == "numerical" and distinct > 5:
            return "ks"
        return "chisquare" if distinct > 2 else "z"
    if reference.column_type == "numerical" and distinct > 5:
        return "wasserstein"
    return "jensenshannon"


def union_distinct(reference: ColumnProfile, current: ColumnProfile, *, cap: int) -> int:
    """Distinct non-null values of both windows together, exact up to ``cap``."""
    if reference.distinct_count >= cap or current.distinct_count >= cap:
        return max(reference.distinct_count, current.distinct_count)
    rk, ck = reference.value_counts[0], current.value_counts[0]
    if rk.dtype.kind != ck.dtype.kind and not (rk.dtype.kind in "biuf" and ck.dtype.kind in "biuf"):
        rk, ck = rk.astype(str), ck.astype(str)
    return int(np.union1d(rk, ck).size)


def infer_column_types(
    df: pd.DataFrame, columns: Sequence[str] | None = None
) -> dict[str, ColumnType]:
    """Evidently's ``infer_column_type`` for each column; text (near-unique strings) is
    categorical here, and columns Evidently cannot type (all-null, datetime) are left out."""
    names = list(df.columns) if columns is None else list(columns)
    types: dict[str, ColumnType] = {}
    for name in names:
        if name not in df.columns:
            raise ColumnError(str(name), "not in the data frame")
        inferred = infer_column_type(df[name])
        if inferred is not None:
            types[str(name)] = inferred
    return types


def infer_column_type(series: pd.Series) -> ColumnType | None:
    dtype = series.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else None
    if kind == "f" or (kind is None and pd.api.types.is_float_dtype(dtype)):
        return "numerical"
    if kind in ("i", "u") or (kind is None and pd.api.types.is_integer_dtype(dtype)):
        return "categorical" if series.nunique() <= INTEGER_CARDINALITY_LIMIT else "numerical"
    if kind == "b" or isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_string_dtype(dtype):
        non_null = series.dropna()
        if non_null.empty or not isinstance(non_null.iloc[0], str):
            return None
        return "categorical"
    return None


def near_unique_warning(profile: ColumnProfile) -> str | None:
    """A warning for a string column Evidently would treat as text."""
    if profile.keys is None or profile.keys.dtype.kind != "U":
        return None
    distinct = profile.capped_from or profile.distinct_count
    if distinct > NEAR_UNIQUE_SHARE * profile.count:
        return (
            f"{distinct} distinct values in {profile.count} rows: near-unique "
            "strings (Evidently would treat this column as text); categorical drift tests "
            "on it are rarely meaningful"
        )
    return None
