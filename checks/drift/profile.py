"""Per-column summaries the drift tests run on.

A numerical column is kept as its sorted finite values (float64), a categorical column as its
distinct values and their counts. Every test reads only these, so a reference is summarised
once (and cached by the service) and exact tests such as KS stay exact.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from checks.drift.categories import Distinct, arrow_data, distinct_counts
from checks.errors import ColumnError

ColumnType = Literal["numerical", "categorical"]
COLUMN_TYPES: tuple[ColumnType, ...] = ("numerical", "categorical")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class ColumnProfile:
    """A cacheable summary of one column of one window.

    Numerical: ``values`` holds the sorted finite values. Categorical: ``keys`` holds the
    distinct non-null values (sorted) and ``counts`` their frequencies. NaN, None and ±inf are
    nulls, as Evidently drops them before testing.
    """

    column_type: ColumnType
    null_count: int
    total_count: int
    values: FloatArray | None = None
    keys: np.ndarray | None = None
    counts: IntArray | None = None
    #: numerical values that came from an integer dtype: numpy's Sturges rule keeps integer
    #: bins at least 1 wide, and Evidently bins such columns as integers
    integer: bool = False
    #: distinct values before a cap kept only the most frequent (checks/drift/categories.py)
    capped_from: int | None = None

    @property
    def count(self) -> int:
        """Number of non-null values."""
        if self.values is not None:
            return int(self.values.size)
        return int(self.value_counts[1].sum())

    @property
    def null_share(self) -> float:
        return self.null_count / self.total_count if self.total_count else 0.0

    @cached_property
    def value_counts(self) -> tuple[np.ndarray, IntArray]:
        """Distinct values (sorted) and their counts, for either column type."""
        if self.keys is not None and self.counts is not None:
            return self.keys, self.counts
        return _sorted_value_counts(cast(FloatArray, self.values))

    def std(self, ddof: int = 0) -> float:
        """``np.std(values, ddof=ddof)``, bit for bit, from squared deviations summed once
        per profile: a drift method and the effect size both ask for a cached reference's."""
        if self.values is None:
            raise TypeError("a standard deviation needs a numerical profile (sorted values)")
        if self.values.size - ddof <= 0:  # numpy's NaN (and its warning)
            return float(np.std(self.values, ddof=ddof))
        return math.sqrt(self._squared_deviations / (self.values.size - ddof))

    @cached_property
    def _squared_deviations(self) -> float:
        """numpy's own steps for a variance: the mean as sum / n, then the (pairwise) sum of
        squared deviations from it."""
        values = cast(FloatArray, self.values)
        deviations = values - np.add.reduce(values) / values.size
        return float(np.add.reduce(np.multiply(deviations, deviations, out=deviations)))

    @cached_property
    def distinct_count(self) -> int:
        if self.values is not None:
            v = self.values
            return int(np.count_nonzero(v[1:] != v[:-1]) + 1) if v.size else 0
        return int(self.value_counts[0].size)


def profile_column(
    values: pd.Series | np.ndarray,
    column_type: ColumnType,
    *,
    column: str = "<column>",
    max_categories: int | None = None,
) -> ColumnProfile:
    """Summarise one column; NaN, None and ±inf count as nulls. A categorical column keeps
    at most ``max_categories`` distinct values, the rest counted as ``OTHER``."""
    if column_type == "numerical":
        integer = _is_integer(values)
        arr = _as_float(values, column)
        finite = _sorted_finite(arr)
        return ColumnProfile(
            "numerical", arr.size - finite.size, arr.size, values=finite, integer=integer
        )
    if column_type == "categorical":
        keys, counts, capped_from = distinct_counts(values).kept(max_categories)
        total, nulls = len(values), len(values) - int(counts.sum())
        return ColumnProfile(
            "categorical", nulls, total, keys=keys, counts=counts, capped_from=capped_from
        )
    raise ColumnError(column, f"unknown column type {column_type!r}; known: {COLUMN_TYPES}")


def capped(profile: ColumnProfile, max_categories: int | None) -> ColumnProfile:
    """``profile`` with at most ``max_categories`` distinct values (a profile summarised
    before, e.g. a cached reference); numerical profiles and small ones come back as they are."""
    if max_categories is None or profile.column_type != "categorical":
        return profile
    keys, counts = profile.value_counts
    if keys.size - (profile.capped_from is not None) <= max_categories:  # OTHER is not kept
        return profile
    kept, kept_counts, distinct = Distinct(counts, lambda at: keys[at]).kept(max_categories)
    return dataclasses.replace(
        profile, keys=kept, counts=kept_counts, capped_from=profile.capped_from or distinct
    )


def _sorted_finite(arr: FloatArray) -> FloatArray:
    """Sorted finite values: one sorting copy, then the slice between -inf and +inf/NaN
    (numpy sorts NaN last)."""
    ordered = np.sort(arr)
    lo = int(np.searchsorted(ordered, -np.inf, side="right"))
    hi = int(np.searchsorted(ordered, np.inf, side="left"))
    if lo == 0 and hi == ordered.size:
        return ordered
    return ordered[lo:hi].copy()  # a compact array, not a view on the nulls


def _is_integer(values: pd.Series | np.ndarray) -> bool:
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.ArrowDtype):
        return dtype.kind in "iu"
    return isinstance(dtype, np.dtype) and dtype.kind in "iu"


def _as_float(values: pd.Series | np.ndarray, column: str) -> FloatArray:
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, pd.ArrowDtype):
            values = arrow_data(values).to_numpy()  # nulls become NaN
        elif isinstance(values.dtype, np.dtype | pd.CategoricalDtype):
            values = values.to_numpy()  # no copy for numpy dtypes
        else:  # pandas' masked dtypes (Int64, Float64, boolean): NA becomes NaN
            values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    arr = np.asarray(values)
    if arr.dtype == object:
        try:
            arr = pd.to_numeric(pd.Series(arr), errors="raise").to_numpy(
                np.float64, na_value=np.nan
            )
        except (TypeError, ValueError) as exc:
            raise ColumnError(column, f"numerical column holds non-numeric values ({exc})") from exc
    if arr.dtype.kind not in "biuf":
        raise ColumnError(column, f"numerical column has dtype {arr.dtype}")
    return np.asarray(arr, dtype=np.float64).ravel()


def _sorted_value_counts(sorted_values: FloatArray) -> tuple[FloatArray, IntArray]:
    n = sorted_values.size
    if n == 0:
        return sorted_values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))
    counts = np.diff(np.append(starts, n)).astype(np.int64)
    return sorted_values[starts], counts


def align_counts(
    reference: ColumnProfile, current: ColumnProfile
) -> tuple[np.ndarray, IntArray, IntArray]:
    """Counts of both windows over the union of their distinct values (sorted)."""
    rk, rc = reference.value_counts
    ck, cc = current.value_counts
    if not (rk.dtype.kind in "biuf" and ck.dtype.kind in "biuf") and rk.dtype.kind != ck.dtype.kind:
        rk, ck = rk.astype(str), ck.astype(str)
    keys = np.union1d(rk, ck)
    ref_counts = np.zeros(keys.size, dtype=np.int64)
    cur_counts = np.zeros(keys.size, dtype=np.int64)
    ref_counts[np.searchsorted(keys, rk)] = rc
    cur_counts[np.searchsorted(keys, ck)] = cc
    return keys, ref_counts, cur_counts
