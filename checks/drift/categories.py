"""A cap on the distinct values one categorical profile keeps.

A column of ids or free text can hold millions of distinct values; kept all, their keys cost
gigabytes in every window and in the cached reference, and a categorical test on them says
little. With a cap of ``limit``, a profile keeps the ``limit`` most frequent values and counts
every other non-null value as one category, :data:`OTHER`. Under the cap nothing changes.
Evidently has no such cap: a capped column is a documented deviation (docs/drift.md).

>>> import numpy as np
>>> most_frequent(np.array([5, 1, 7, 1, 3]), 2).tolist()
[2, 0]
>>> keys, counts = with_other(np.array(["a", "b"]), np.array([7, 5]), 4)
>>> keys.tolist(), counts.tolist()
(['a', 'b', '__other__'], [7, 5, 4])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: The key under which a capped profile counts the values it did not keep.
OTHER = "__other__"

IntArray = npt.NDArray[np.int64]


def most_frequent(counts: IntArray, limit: int) -> IntArray:
    """Positions of the ``limit`` largest positive counts, largest first; among equal counts
    the earlier position wins, so the choice is deterministic."""
    order = np.argsort(-counts, kind="stable")[:limit]
    return order[counts[order] > 0].astype(np.int64)


def with_other(keys: np.ndarray, counts: IntArray, other: int) -> tuple[np.ndarray, IntArray]:
    """``keys`` (as text, since :data:`OTHER` is text) and ``counts`` with ``other`` rows
    under :data:`OTHER`; a kept value that already is ``OTHER`` takes them instead."""
    text = np.asarray(keys).astype(str)
    counts = np.asarray(counts, dtype=np.int64)
    clash = np.flatnonzero(text == OTHER)
    if clash.size:
        counts = counts.copy()
        counts[clash[0]] += other
        return text, counts
    return np.append(text, OTHER), np.append(counts, np.int64(other))


@dataclass(frozen=True)
class Distinct:
    """Every distinct non-null value's count, and how to get the keys at some positions
    (so a capped profile never builds the keys it does not keep)."""

    counts: IntArray
    keys_at: Callable[[IntArray], list[Any] | np.ndarray]

    def kept(self, limit: int | None) -> tuple[np.ndarray, IntArray, int | None]:
        present = np.flatnonzero(self.counts > 0)
        if limit is None or present.size <= limit:
            return (*_finish(*_key_array(self.keys_at(present), self.counts[present])), None)
        top = most_frequent(self.counts, limit)
        keys, counts = _key_array(self.keys_at(top), self.counts[top])
        # ±inf keys outside the kept ones are counted in OTHER, not as nulls: checking
        # millions of keys one by one is what the cap avoids.
        other = int(self.counts.sum()) - int(self.counts[top].sum())
        return (*_finish(*with_other(keys, counts, other)), int(present.size))


def distinct_counts(values: pd.Series | np.ndarray) -> Distinct:
    """The distinct non-null values of ``values`` and their counts (keys built lazily)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        counts = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories))
        categories = values.cat.categories  # plain keys: strings become "<U"
        return Distinct(counts.astype(np.int64), lambda at: list(categories[at]))
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.ArrowDtype | pd.StringDtype):
        return _arrow_counts(values)
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values).ravel()
    if arr.dtype.kind in "biuf":
        if arr.dtype.kind == "f":
            arr = arr[np.isfinite(arr)]
        keys, counts = np.unique(arr, return_counts=True)
        return Distinct(counts.astype(np.int64), lambda at: keys[at])
    vc = pd.Series(arr, copy=False).value_counts(dropna=True, sort=False)
    return Distinct(vc.to_numpy(np.int64), lambda at: list(vc.index[at]))


def _arrow_counts(values: pd.Series) -> Distinct:
    import pyarrow as pa
    import pyarrow.compute as pc

    vc = pc.value_counts(arrow_data(values))
    keys_arr, counts_arr = vc.field("values"), vc.field("counts")
    keep = pc.is_valid(keys_arr)
    if pa.types.is_floating(keys_arr.type):
        keep = pc.and_(keep, pc.is_finite(keys_arr))
    keys_arr = keys_arr.filter(keep)
    counts = counts_arr.filter(keep).to_numpy().astype(np.int64)
    return Distinct(counts, lambda at: keys_arr.take(pa.array(at)).to_pylist())


def arrow_data(values: pd.Series) -> Any:
    """The pyarrow data behind an Arrow-backed series, without a copy where pandas allows."""
    import pyarrow as pa

    data = getattr(values.array, "_pa_array", None)  # pandas 2: a ChunkedArray
    return data if data is not None else pa.chunked_array([pa.array(values.array)])


def _key_array(keys: list[Any] | np.ndarray, counts: IntArray) -> tuple[np.ndarray, IntArray]:
    """Keys as a plain numpy array without ±inf; mixed or exotic objects become strings."""
    if isinstance(keys, np.ndarray) and keys.dtype.kind in "biuU":
        return keys, counts  # numbers from np.unique are finite already; text has no inf
    if isinstance(keys, np.ndarray) and keys.dtype.kind == "f":
        return keys, counts  # np.unique ran on the finite values only
    keep = np.array([not (isinstance(k, float) and not np.isfinite(k)) for k in keys], dtype=bool)
    finite = [k for k, ok in zip(keys, keep, strict=True) if ok]
    arr = np.asarray(finite) if finite else np.asarray([], dtype=str)
    if arr.dtype.kind not in "biufU":
        arr = np.asarray([str(k) for k in finite], dtype=str)
    return arr, counts[keep] if keep.size else counts


def _finish(keys: np.ndarray, counts: IntArray) -> tuple[np.ndarray, IntArray]:
    order = np.argsort(keys, kind="stable")
    return keys[order], counts[order]
