"""Per-column summaries the drift tests run on.

A numerical column is kept as its sorted finite values (float64), a categorical column as its
distinct values and their counts. Every test reads only these, so a reference is summarised
once (and cached by the service) and exact tests such as KS stay exact.
"""

from __future__ import annotations

import dataclasses
import io
import json
import struct
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, cast

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

    @cached_property
    def distinct_count(self) -> int:
        if self.values is not None:
            v = self.values
            return int(np.count_nonzero(v[1:] != v[:-1]) + 1) if v.size else 0
        return int(self.value_counts[0].size)

    def to_bytes(self) -> bytes:
        """A compact binary form for a database blob: a JSON header, then the arrays raw and
        8-byte aligned, so :meth:`from_bytes` can view them without a copy. No pickle."""
        arrays: dict[str, np.ndarray]
        if self.values is not None:
            arrays = {"values": self.values}
        else:
            arrays = dict(zip(("keys", "counts"), self.value_counts, strict=True))
        header: dict[str, Any] = {
            "column_type": self.column_type,
            "null_count": self.null_count,
            "total_count": self.total_count,
            "integer": self.integer,
            "capped_from": self.capped_from,
            "arrays": [],
        }
        chunks: list[bytes] = []
        offset = 0
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            if array.dtype.kind not in _STORABLE:
                raise ValueError(f"cannot store a profile array of dtype {array.dtype}")
            header["arrays"].append([name, array.dtype.str, int(array.size), offset])
            chunks += [array.tobytes(), bytes(_pad(array.nbytes))]
            offset += array.nbytes + _pad(array.nbytes)
        head = json.dumps(header).encode()
        head += b" " * _pad(len(PROFILE_FORMAT) + 4 + len(head))  # JSON allows trailing blanks
        return PROFILE_FORMAT + struct.pack("<I", len(head)) + head + b"".join(chunks)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> ColumnProfile:
        """The profile :meth:`to_bytes` wrote. Its arrays are read-only views on ``data``
        (which they keep alive): a cached reference is not copied to be used."""
        view = memoryview(data)
        if bytes(view[: len(PROFILE_FORMAT)]) != PROFILE_FORMAT:
            return cls._from_npz(bytes(view))  # written before the raw form (numpy .npz)
        start = len(PROFILE_FORMAT) + 4
        (length,) = struct.unpack_from("<I", view, len(PROFILE_FORMAT))
        header = json.loads(bytes(view[start : start + length]))
        base = start + length
        arrays: dict[str, np.ndarray] = {}
        for name, kind, size, offset in header["arrays"]:
            dtype = np.dtype(kind)
            if dtype.kind not in _STORABLE:
                raise ValueError(f"not a column profile: array dtype {kind!r}")
            at = base + offset
            arrays[name] = (
                np.frombuffer(view, dtype=dtype, count=size, offset=at)
                if size
                else (np.empty(0, dtype=dtype))
            )
        return cls._checked(
            header["column_type"],
            null_count=int(header["null_count"]),
            total_count=int(header["total_count"]),
            integer=bool(header["integer"]),
            capped_from=header.get("capped_from"),
            **arrays,
        )

    @classmethod
    def _from_npz(cls, data: bytes) -> ColumnProfile:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls._checked(
                str(z["column_type"]),
                null_count=int(z["null_count"]),
                total_count=int(z["total_count"]),
                integer=bool(z["integer"]),
                values=z.get("values"),
                keys=z.get("keys"),
                counts=z.get("counts"),
            )

    @classmethod
    def _checked(cls, column_type: str, **fields: Any) -> ColumnProfile:
        if column_type not in COLUMN_TYPES:
            raise ValueError(f"not a column profile: column type {column_type!r}")
        return cls(column_type=column_type, **fields)


#: The first bytes of :meth:`ColumnProfile.to_bytes`'s form (version 1).
PROFILE_FORMAT = b"CPROF\x00\x00\x01"
_STORABLE = "biufU"  # never object arrays: nothing stored is unpickled


def _pad(size: int) -> int:
    """Bytes that bring ``size`` to a multiple of 8."""
    return -size % 8


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
