"""The stored form of a reference summary's column profiles: one Arrow IPC stream.

One record batch of one row; each profile is one column of it, named and described by its
field metadata (segment, column, type, counts). A numerical profile is a ``large_list`` of
its sorted float64 values, a categorical one a struct of its keys and their counts. Reading
views the numerical values in place (no copy of a cached reference). Nothing is pickled.

:data:`FORMAT_VERSION` is part of the reference fingerprint (monitor/sources/reference.py):
a summary stored in an older form is simply summarised again and stored anew.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from checks.drift import ColumnProfile
from checks.drift.profile import COLUMN_TYPES

FORMAT_VERSION = 2  # 1: the hand-made binary layout this replaced
_STORABLE = "biufU"  # never object arrays


def encode(slices: Mapping[str, Mapping[str, ColumnProfile]]) -> bytearray:
    """``{segment: {column: profile}}`` as one Arrow IPC stream.

    Sized first, then written once into its final buffer: the arrays are not copied twice
    (a growing stream, then bytes), which at a large reference would double the peak.
    """
    fields, arrays = [], []
    for segment, profiles in slices.items():
        for column, profile in profiles.items():
            array = _array(profile, column)
            fields.append(
                pa.field(
                    f"{segment}\x00{column}", array.type, metadata=_meta(profile, segment, column)
                )
            )
            arrays.append(array)
    batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
    size = pa.MockOutputStream()
    _write(size, batch)
    out = bytearray(size.size())
    _write(pa.FixedSizeBufferWriter(pa.py_buffer(out)), batch)
    return out


def _write(sink: Any, batch: pa.RecordBatch) -> None:
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)


def decode(payload: bytes | bytearray) -> dict[str, dict[str, ColumnProfile]]:
    """The profiles :func:`encode` stored; numerical values are read-only views on ``payload``."""
    batch = pa.ipc.open_stream(pa.py_buffer(payload)).read_next_batch()
    slices: dict[str, dict[str, ColumnProfile]] = {}
    for field, array in zip(batch.schema, batch.columns, strict=True):
        meta = json.loads(field.metadata[b"profile"])
        slices.setdefault(meta["segment"], {})[meta["column"]] = _profile(meta, array)
    return slices


def _meta(profile: ColumnProfile, segment: str, column: str) -> dict[bytes, bytes]:
    meta = {
        "segment": segment,
        "column": column,
        "column_type": profile.column_type,
        "null_count": profile.null_count,
        "total_count": profile.total_count,
        "integer": profile.integer,
        "capped_from": profile.capped_from,
    }
    return {b"profile": json.dumps(meta).encode()}


def _array(profile: ColumnProfile, column: str) -> pa.Array:
    if profile.values is not None:
        return _one_list(_checked(profile.values, column))
    keys, counts = profile.value_counts
    return pa.StructArray.from_arrays(
        [_one_list(_checked(keys, column)), _one_list(np.asarray(counts, dtype=np.int64))],
        names=["keys", "counts"],
    )


def _checked(array: np.ndarray, column: str) -> np.ndarray:
    if array.dtype.kind not in _STORABLE:
        raise ValueError(f"column {column!r}: cannot store a profile array of dtype {array.dtype}")
    return array


def _one_list(values: np.ndarray) -> pa.Array:
    offsets = pa.array([0, values.size], type=pa.int64())
    return pa.LargeListArray.from_arrays(offsets, pa.array(values))


def _profile(meta: dict[str, Any], array: pa.Array) -> ColumnProfile:
    if meta["column_type"] not in COLUMN_TYPES:
        raise ValueError(f"not a column profile: column type {meta['column_type']!r}")
    common: dict[str, Any] = {
        "null_count": int(meta["null_count"]),
        "total_count": int(meta["total_count"]),
        "integer": bool(meta["integer"]),
        "capped_from": meta["capped_from"],
    }
    if isinstance(array, pa.StructArray):
        keys = _numpy(array.field("keys").values)
        counts = _numpy(array.field("counts").values)
        return ColumnProfile(meta["column_type"], keys=keys, counts=counts, **common)
    return ColumnProfile(meta["column_type"], values=_numpy(array.values), **common)


def _numpy(values: pa.Array) -> np.ndarray:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return np.asarray(values.to_pylist(), dtype=str)
    if pa.types.is_boolean(values.type):
        flags: np.ndarray = values.to_numpy(zero_copy_only=False)
        return flags
    numbers: np.ndarray = values.to_numpy(zero_copy_only=True)
    return numbers
