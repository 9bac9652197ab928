"""Columns as the checks read them, from pandas, pyarrow or numpy, importing neither of the two.

A check that takes a table (:mod:`checks.multivariate`) takes anything that gives a column by
name: a pandas DataFrame, a pyarrow Table, or a dict of numpy arrays. Telling the column kinds
apart by their attributes instead of ``isinstance`` keeps pandas (0.6 CPU s) and pyarrow out
of a process that never uses them: a library user reading Parquet with pyarrow never pays for
pandas, and the service, which holds DataFrames, never pays for anything new.

* pandas Series and numpy arrays have a ``dtype``; object, string, category and bool dtypes
  are categorical (NannyML's rule), numbers are not.
* pyarrow Arrays and ChunkedArrays have a ``type``; strings, booleans and dictionaries are
  categorical. A dictionary-encoded column (``read_dictionary=``) is factorized for free.
  Numbers are read from Arrow's fixed-width layout through the buffer protocol (no copy
  without nulls): pyarrow's own ``to_numpy`` starts its pandas bridge, which imports pandas.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: pyarrow type names read as categories (dictionaries are recognised by their index type)
_ARROW_CATEGORICAL = ("string", "large_string", "string_view", "bool")
#: pyarrow's fixed-width number types and their numpy dtypes
_ARROW_NUMBERS = {
    "double": "float64", "float": "float32", "halffloat": "float16",
    "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
}  # fmt: skip


class Table(Protocol):
    """Anything that gives a column by name and raises ``KeyError`` for an unknown one."""

    def __getitem__(self, name: str, /) -> Any: ...


def column(table: Table, name: str) -> Any | None:
    """The column ``name`` of ``table``, or ``None`` when it has none of that name."""
    try:
        return table[name]
    except KeyError:
        return None


def is_categorical(values: Any) -> bool:
    """Whether a column's values are categories (text, bool, category) rather than numbers."""
    if hasattr(values, "dtype"):  # pandas, numpy
        return getattr(values.dtype, "kind", "O") in "OSUb"
    if hasattr(values, "type"):  # pyarrow
        kind = values.type
        return hasattr(kind, "index_type") or str(kind) in _ARROW_CATEGORICAL
    return np.asarray(values).dtype.kind in "OSUb"


def floats(values: Any) -> FloatArray:
    """A numerical column as float64, missing values as NaN; no copy when it is already one."""
    if hasattr(values, "to_numpy") and hasattr(values, "dtype"):  # pandas
        out: FloatArray = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return out
    if hasattr(values, "type"):  # pyarrow: nulls become NaN
        return arrow_numbers(values)
    return np.asarray(values, dtype=np.float64)


def arrow_numbers(values: Any) -> FloatArray:
    """A pyarrow number column (Array or ChunkedArray) as float64, nulls as NaN."""
    chunks = values.chunks if hasattr(values, "chunks") else [values]
    parts = [_arrow_chunk(chunk) for chunk in chunks]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)


def _arrow_chunk(values: Any) -> FloatArray:
    name = str(values.type)
    if name not in _ARROW_NUMBERS:
        raise TypeError(f"a pyarrow column of type {name} is not a number")
    dtype = np.dtype(_ARROW_NUMBERS[name])
    validity, data = values.buffers()[:2]
    start, rows = values.offset, len(values)
    numbers = np.frombuffer(data, dtype=dtype, count=rows, offset=start * dtype.itemsize)
    out = np.asarray(numbers, dtype=np.float64)
    if values.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        out = np.where(bits[start : start + rows].astype(bool), out, np.nan)
    return out


def factorize(values: Any) -> tuple[IntArray, list[object]]:
    """Codes into the distinct values (-1 for missing) and the distinct values themselves."""
    if hasattr(values, "factorize"):  # pandas
        codes, uniques = values.factorize(use_na_sentinel=True)
        # numpy scalars (a bool column's np.True_) as Python values: they are JSON keys later
        plain = [u.item() if isinstance(u, np.generic) else u for u in uniques]
        return np.asarray(codes, dtype=np.intp), plain
    if hasattr(values, "type"):  # pyarrow
        return _arrow_factorize(values)
    lookup: dict[object, int] = {}
    codes = np.fromiter(
        (-1 if v is None or v != v else lookup.setdefault(v, len(lookup)) for v in values),
        dtype=np.intp,
        count=len(values),
    )
    return codes, list(lookup)


def _arrow_factorize(values: Any) -> tuple[IntArray, list[object]]:
    encoded = values if hasattr(values.type, "index_type") else values.dictionary_encode()
    if hasattr(encoded, "combine_chunks"):  # a ChunkedArray: one dictionary for all chunks
        encoded = encoded.unify_dictionaries().combine_chunks()
    indices = encoded.indices
    if indices.null_count or str(indices.type) not in _ARROW_NUMBERS:
        codes = np.nan_to_num(arrow_numbers(indices), nan=-1.0)  # a null index: missing
    else:  # the index buffer itself, widened once (no float round trip)
        dtype = np.dtype(_ARROW_NUMBERS[str(indices.type)])
        data = indices.buffers()[1]
        codes = np.frombuffer(
            data, dtype=dtype, count=len(indices), offset=indices.offset * dtype.itemsize
        )
    return codes.astype(np.intp), encoded.dictionary.to_pylist()
