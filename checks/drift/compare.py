"""Drift of one column: resolve the method, run it, turn edge cases into verdicts."""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from checks.drift.methods import DriftMethod, NotApplicable, UndefinedScore, get_method
from checks.drift.outcome import DriftOutcome
from checks.drift.profile import (
    COLUMN_TYPES,
    ColumnProfile,
    ColumnType,
    capped,
    profile_column,
)
from checks.drift.select import default_method, near_unique_warning
from checks.errors import ColumnError
from checks.outcome import Outcome

ColumnData: TypeAlias = pd.Series | np.ndarray | ColumnProfile

INSUFFICIENT = "insufficient data"


def as_profile(
    data: ColumnData,
    column_type: ColumnType,
    column: str,
    side: str,
    max_categories: int | None = None,
) -> ColumnProfile:
    """A profile of ``data``; a given profile must be of the requested column type. A
    categorical one keeps at most ``max_categories`` values (checks/drift/categories.py)."""
    if column_type not in COLUMN_TYPES:
        raise ColumnError(column, f"unknown column type {column_type!r}; known: {COLUMN_TYPES}")
    if isinstance(data, ColumnProfile):
        if data.column_type != column_type:
            raise ColumnError(
                column, f"{side} profile is {data.column_type}, but the column is {column_type}"
            )
        return capped(data, max_categories)
    return profile_column(data, column_type, column=column, max_categories=max_categories)


def compare_column(
    reference: ColumnData,
    current: ColumnData,
    *,
    column: str,
    column_type: ColumnType,
    method: str = "auto",
    threshold: float | None = None,
    seed: int = 0,
    max_categories: int | None = None,
) -> DriftOutcome:
    """Test one column for drift, as Evidently's ``ValueDrift`` does, without NaN or crashes.

    An empty window (after nulls are dropped) gives ``drifted=None`` with reason
    "insufficient data"; a test undefined on identical constant samples gives no drift.
    With ``max_categories``, a categorical column with more distinct values keeps the most
    frequent per window and counts the rest as one category (a deviation from Evidently).
    """
    ref = as_profile(reference, column_type, column, "reference", max_categories)
    cur = as_profile(current, column_type, column, "current", max_categories)
    name, impl = _resolve(method, ref, cur, column, column_type)
    limit = impl.threshold if threshold is None else threshold
    details = _details(ref, cur, impl)
    value, passed, reason = _judge(impl, ref, cur, limit=limit, seed=seed, column=column)
    return DriftOutcome(
        check=f"drift:{column}",
        method=name,
        value=value,
        threshold=limit,
        passed=passed,
        reason=reason or details.get("warning"),
        details=details,
        column=column,
        column_type=column_type,
        kind=impl.kind,
    )


def _resolve(
    method: str, ref: ColumnProfile, cur: ColumnProfile, column: str, column_type: ColumnType
) -> tuple[str, DriftMethod]:
    if method == "auto":  # Evidently may pick chisquare or z for a numerical column
        name = default_method(ref, cur)
        return name, get_method(name)
    impl = get_method(method)
    if column_type not in impl.column_types:
        allowed = " or ".join(sorted(impl.column_types))
        problem = f"method {method!r} applies to {allowed} columns, not {column_type}"
        raise ColumnError(column, problem)
    return method, impl


def _judge(
    impl: DriftMethod,
    ref: ColumnProfile,
    cur: ColumnProfile,
    *,
    limit: float,
    seed: int,
    column: str,
) -> tuple[float | None, bool | None, str | None]:
    """Score, passed and reason; an undefined score is "no drift" only on identical
    constant samples, and insufficient data otherwise."""
    if ref.count == 0 or cur.count == 0:
        empty = "reference" if ref.count == 0 else "current"
        return None, None, f"{INSUFFICIENT}: the {empty} window has no non-null values"
    try:
        score = impl.score(ref, cur, seed=seed)
        undefined = "the score is NaN" if math.isnan(score) else None
    except UndefinedScore as exc:
        undefined = str(exc)
    except NotApplicable as exc:
        raise ColumnError(column, str(exc)) from exc
    if undefined is None:
        return score, not impl.is_drift(score, limit), None
    if _identical_constant(ref, cur):
        reason = f"identical constant samples: {impl.name} is undefined there; no drift"
        return impl.no_drift_score, True, reason
    return None, None, f"{INSUFFICIENT}: {impl.name} is undefined on these samples ({undefined})"


def _details(ref: ColumnProfile, cur: ColumnProfile, impl: DriftMethod) -> dict[str, Any]:
    details: dict[str, Any] = {
        "missing_share": {"reference": ref.null_share, "current": cur.null_share},
        "reference_rows": ref.count,
        "current_rows": cur.count,
        "display_name": impl.display_name,
        "comparison": impl.comparison,
    }
    warning = near_unique_warning(ref) or near_unique_warning(cur)
    if warning:
        details["warning"] = warning
    capped = [p for p in (ref, cur) if p.capped_from is not None]
    if capped:  # every key but OTHER was kept
        details["categories_kept"] = max(p.value_counts[0].size - 1 for p in capped)
        details["distinct"] = {
            "reference": ref.capped_from or ref.distinct_count,
            "current": cur.capped_from or cur.distinct_count,
        }
    return details


def _identical_constant(ref: ColumnProfile, cur: ColumnProfile) -> bool:
    if ref.distinct_count != 1 or cur.distinct_count != 1:
        return False
    return bool(ref.value_counts[0][0] == cur.value_counts[0][0])


def missing_share_check(
    reference: ColumnData, current: ColumnData, *, column: str, tolerance: float = 0.05
) -> Outcome:
    """``missing_share:<column>``: fails when the current null share exceeds the reference's
    by more than ``tolerance``. ``value`` is the current share, ``threshold`` the largest
    share that passes. NaN, None and ±inf are nulls. An empty window is insufficient data."""
    ref_nulls, ref_rows = null_counts(reference)
    cur_nulls, cur_rows = null_counts(current)
    ref_share = ref_nulls / ref_rows if ref_rows else 0.0
    cur_share = cur_nulls / cur_rows if cur_rows else 0.0
    limit = ref_share + tolerance
    details = {
        "reference": ref_share,
        "current": cur_share,
        "tolerance": tolerance,
        "reference_rows": ref_rows,
        "current_rows": cur_rows,
    }
    common: dict[str, Any] = {
        "check": f"missing_share:{column}",
        "method": "missing_share",
        "threshold": limit,
        "details": details,
    }
    if ref_rows == 0 or cur_rows == 0:
        empty = "reference" if ref_rows == 0 else "current"
        reason = f"{INSUFFICIENT}: the {empty} window has no rows"
        return Outcome(value=None, passed=None, reason=reason, **common)
    return Outcome(value=cur_share, passed=cur_share - ref_share <= tolerance, **common)


def null_counts(data: ColumnData) -> tuple[int, int]:
    """Null (NaN, None, ±inf) and total counts of a column."""
    if isinstance(data, ColumnProfile):
        return data.null_count, data.total_count
    arr = (
        data.to_numpy()
        if isinstance(data, pd.Series) and isinstance(data.dtype, np.dtype)
        else data
    )
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "biuf":
        return int(arr.size - np.count_nonzero(np.isfinite(arr))), int(arr.size)
    series = data if isinstance(data, pd.Series) else pd.Series(np.asarray(data).ravel())
    nulls = series.isna().to_numpy(dtype=bool)
    if series.dtype == object:
        nulls |= np.array([isinstance(v, float) and math.isinf(v) for v in series], dtype=bool)
    elif pd.api.types.is_float_dtype(series.dtype):
        nulls |= np.isinf(series.to_numpy(dtype=np.float64, na_value=np.nan))
    return int(nulls.sum()), len(series)
