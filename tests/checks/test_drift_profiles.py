"""Column profiles, binning and multiple-testing corrections against numpy and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control

from checks.drift import METHODS, ColumnProfile, adjust_p_values, compare_column, profile_column
from checks.drift.binning import histogram_counts, sturges_edges
from checks.errors import ColumnError

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=300))
def test_sturges_edges_and_counts_equal_numpys_histogram(values):
    a = np.array(values)
    edges = sturges_edges(a.min(), a.max(), a.size)
    expected = np.histogram_bin_edges(a, bins="sturges")
    np.testing.assert_array_equal(edges, expected)
    np.testing.assert_array_equal(histogram_counts(np.sort(a), edges), np.histogram(a, edges)[0])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=300))
def test_sturges_edges_of_integer_data_equal_numpys(values):
    a = np.array(values, dtype=np.int64)
    edges = sturges_edges(float(a.min()), float(a.max()), a.size, integer=True)
    np.testing.assert_array_equal(edges, np.histogram_bin_edges(a, bins="sturges"))


def test_numerical_profile_keeps_sorted_finite_values_and_counts_nan_none_inf_as_null():
    s = pd.Series([3.0, np.nan, -np.inf, 1.0, np.inf, 2.0, None])
    p = profile_column(s, "numerical")
    np.testing.assert_array_equal(p.values, [1.0, 2.0, 3.0])
    assert (p.null_count, p.total_count, p.count) == (4, 7, 3)


def test_categorical_profile_counts_values_and_drops_nulls_and_infinities():
    s = pd.Series(["b", None, "a", "b", np.nan, float("inf")], dtype=object)
    p = profile_column(s, "categorical")
    assert list(p.keys) == ["a", "b"]
    assert list(p.counts) == [1, 2]
    assert (p.null_count, p.total_count) == (3, 6)


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(["x", "y", "x", None]).astype("category"),
        pd.Series(["x", "y", "x", None], dtype="string[pyarrow]"),
        pd.Series(["x", "y", "x", None], dtype=object),
    ],
    ids=["category", "arrow-string", "object"],
)
def test_categorical_profile_is_the_same_for_every_string_storage(series):
    p = profile_column(series, "categorical")
    assert (list(p.keys), list(p.counts), p.null_count) == (["x", "y"], [2, 1], 1)
    assert p.keys.dtype.kind == "U"  # storable without pickle
    assert list(ColumnProfile.from_bytes(p.to_bytes()).keys) == ["x", "y"]


def test_numerical_profile_of_arrow_backed_column_treats_nulls_as_null():
    s = pd.Series([1.5, None, 0.5], dtype="double[pyarrow]")
    p = profile_column(s, "numerical")
    np.testing.assert_array_equal(p.values, [0.5, 1.5])
    assert p.null_count == 1


def test_non_numeric_values_in_a_numerical_column_name_the_column():
    with pytest.raises(ColumnError, match="'plan'"):
        profile_column(pd.Series(["a", "b"], dtype=object), "numerical", column="plan")


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([2.0, np.nan, 1.0, 5.5]), "numerical"),
        (pd.Series([3, 1, 2, 2]), "numerical"),
        (pd.Series(["b", None, "a", "ü"]), "categorical"),
        (pd.Series([3, 1, 3, 7]), "categorical"),
        (pd.Series([], dtype=float), "numerical"),
    ],
)
def test_profile_survives_a_round_trip_through_bytes(values, kind):
    p = profile_column(values, kind)
    q = ColumnProfile.from_bytes(p.to_bytes())
    assert (q.column_type, q.null_count, q.total_count, q.integer) == (
        p.column_type,
        p.null_count,
        p.total_count,
        p.integer,
    )
    for a, b in zip(q.value_counts, p.value_counts, strict=True):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_benjamini_hochberg_equals_scipys_false_discovery_control(p_values):
    np.testing.assert_allclose(
        adjust_p_values(p_values, "bh"), false_discovery_control(p_values, method="bh")
    )


def test_bonferroni_multiplies_by_the_number_of_tests_capped_at_one():
    np.testing.assert_allclose(adjust_p_values([0.01, 0.2, 0.5], "bonferroni"), [0.03, 0.6, 1.0])


def _npz_bytes(p: ColumnProfile) -> bytes:
    """The form profiles were stored in before the raw layout (numpy .npz)."""
    import io

    arrays = {
        "column_type": np.array(p.column_type),
        "null_count": np.array(p.null_count, dtype=np.int64),
        "total_count": np.array(p.total_count, dtype=np.int64),
        "integer": np.array(p.integer),
    }
    if p.values is not None:
        arrays["values"] = p.values
    else:
        arrays["keys"], arrays["counts"] = p.value_counts
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_gives_the_same_outcome_on_stored_and_fresh_profiles(method: str) -> None:
    """Stored profiles are read-only views on the blob (and older blobs are .npz): no method
    may write into them, and every one must score them as it scores fresh profiles."""
    rng = np.random.default_rng(11)
    kinds = METHODS[method].column_types
    if "numerical" in kinds:
        ref, cur, kind = rng.normal(0, 1, 800), rng.normal(0.3, 1.2, 700), "numerical"
    elif method == "fisher_exact":  # binary columns only
        ref, cur, kind = rng.choice(["a", "b"], 800), rng.choice(["a", "b"], 700), "categorical"
    else:
        ref = rng.choice(["a", "b", "c", "d"], 800, p=[0.4, 0.3, 0.2, 0.1])
        cur, kind = rng.choice(["a", "b", "c", "e"], 700), "categorical"
    fresh_ref, fresh_cur = profile_column(ref, kind), profile_column(cur, kind)
    expected = compare_column(fresh_ref, fresh_cur, column="x", column_type=kind, method=method)
    for encode in (ColumnProfile.to_bytes, _npz_bytes):
        stored_ref = ColumnProfile.from_bytes(encode(fresh_ref))
        stored_cur = ColumnProfile.from_bytes(encode(fresh_cur))
        got = compare_column(stored_ref, stored_cur, column="x", column_type=kind, method=method)
        assert (got.value, got.passed) == (expected.value, expected.passed)


def test_stored_profile_arrays_are_views_on_the_blob_not_copies() -> None:
    p = profile_column(np.arange(1000, dtype=float), "numerical")
    blob = p.to_bytes()
    q = ColumnProfile.from_bytes(blob)
    assert q.values is not None and not q.values.flags.writeable
    assert q.values.base is not None and q.values.flags.aligned and len(blob) % 8 == 0
    np.testing.assert_array_equal(q.values, p.values)
    with pytest.raises(ValueError, match="column type"):
        ColumnProfile.from_bytes(blob.replace(b'"numerical"', b'"textual"  '))
