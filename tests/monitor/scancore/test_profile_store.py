"""The stored form of reference profiles (monitor/store/profiles.py, Arrow IPC)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from checks.drift import METHODS, ColumnProfile, compare_column, profile_column
from monitor.store.profiles import decode, encode


def _round_trip(profile: ColumnProfile, segment: str = "", column: str = "x") -> ColumnProfile:
    return decode(encode({segment: {column: profile}}))[segment][column]


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([2.0, np.nan, 1.0, 5.5]), "numerical"),
        (pd.Series([3, 1, 2, 2]), "numerical"),
        (pd.Series(["b", None, "a", "ü"]), "categorical"),
        (pd.Series([3, 1, 3, 7]), "categorical"),
        (pd.Series([True, False, True]), "categorical"),
        (pd.Series([], dtype=float), "numerical"),
        (pd.Series([], dtype=object), "categorical"),
    ],
)
def test_profile_survives_a_round_trip_through_arrow(values: pd.Series, kind: str) -> None:
    p = profile_column(values, kind)  # type: ignore[arg-type]
    q = _round_trip(p)
    assert (q.column_type, q.null_count, q.total_count, q.integer, q.capped_from) == (
        p.column_type,
        p.null_count,
        p.total_count,
        p.integer,
        p.capped_from,
    )
    for a, b in zip(q.value_counts, p.value_counts, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype.kind == b.dtype.kind


def test_segments_and_columns_come_back_under_their_names() -> None:
    a = profile_column(np.arange(5.0), "numerical")
    b = profile_column(pd.Series(["x", "y", "x"]), "categorical", max_categories=2)
    back = decode(encode({"": {"age": a, "plan": b}, "north": {"age": a}}))
    assert {s: sorted(c) for s, c in back.items()} == {"": ["age", "plan"], "north": ["age"]}
    np.testing.assert_array_equal(back["north"]["age"].values, a.values)


def test_the_stored_form_is_a_plain_arrow_ipc_stream_without_pickle() -> None:
    blob = encode({"": {"age": profile_column(np.arange(3.0), "numerical")}})
    table = pa.ipc.open_stream(pa.py_buffer(blob)).read_all()
    field = table.schema.field(0)
    assert json.loads(field.metadata[b"profile"])["column"] == "age"
    assert table.column(0).to_pylist() == [[0.0, 1.0, 2.0]]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_gives_the_same_outcome_on_stored_and_fresh_profiles(method: str) -> None:
    """Stored profiles are read-only views on the blob: no method may write into them, and
    every one must score them as it scores fresh profiles."""
    rng = np.random.default_rng(11)
    kinds = METHODS[method].column_types
    if "numerical" in kinds:
        ref, cur, kind = rng.normal(0, 1, 800), rng.normal(0.3, 1.2, 700), "numerical"
    elif method == "fisher_exact":  # binary columns only
        ref, cur, kind = rng.choice(["a", "b"], 800), rng.choice(["a", "b"], 700), "categorical"
    else:
        ref = rng.choice(["a", "b", "c", "d"], 800, p=[0.4, 0.3, 0.2, 0.1])
        cur, kind = rng.choice(["a", "b", "c", "e"], 700), "categorical"
    fresh_ref, fresh_cur = profile_column(ref, kind), profile_column(cur, kind)  # type: ignore[arg-type]
    expected = compare_column(fresh_ref, fresh_cur, column="x", column_type=kind, method=method)  # type: ignore[arg-type]
    stored_ref, stored_cur = _round_trip(fresh_ref), _round_trip(fresh_cur)
    got = compare_column(stored_ref, stored_cur, column="x", column_type=kind, method=method)  # type: ignore[arg-type]
    assert (got.value, got.passed) == (expected.value, expected.passed)


def test_stored_numerical_values_are_read_only_views_on_the_blob_not_copies() -> None:
    p = profile_column(np.arange(1000, dtype=float), "numerical")
    blob = encode({"": {"x": p}})
    q = decode(blob)[""]["x"]
    assert q.values is not None and not q.values.flags.writeable
    assert q.values.base is not None and q.values.flags.aligned
    np.testing.assert_array_equal(q.values, p.values)


def test_a_stored_profile_of_an_unknown_column_type_is_refused() -> None:
    blob = encode({"": {"x": profile_column(np.arange(3.0), "numerical")}})
    with pytest.raises(ValueError, match="column type"):
        decode(blob.replace(b'"numerical"', b'"textual"  '))
