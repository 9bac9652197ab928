"""Column profiles, binning and multiple-testing corrections against numpy and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control

from checks.drift import adjust_p_values, profile_column
from checks.drift.binned_stats import quantile_edges, sorted_bin_counts
from checks.drift.binning import histogram_counts, sturges_edges
from checks.drift.effect import effect_size
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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-20, 20) | finite, min_size=1, max_size=300))
def test_bin_counts_of_sorted_values_equal_numpys_right_closed_histogram(values):
    a = np.sort(np.array(values, dtype=np.float64))
    edges = quantile_edges(a, 10)
    # bin i holds edges[i-1] < x <= edges[i]: numpy's digitize with right=True
    expected = np.bincount(np.digitize(a, edges, right=True), minlength=edges.size + 1)
    np.testing.assert_array_equal(sorted_bin_counts(a, edges), expected)


@settings(max_examples=100, deadline=None)
@given(st.lists(finite, min_size=2, max_size=300), st.lists(finite, min_size=1, max_size=300))
def test_median_shift_of_an_effect_equals_numpys_medians(ref, cur):
    r, c = np.array(ref), np.array(cur)
    effect = effect_size(profile_column(r, "numerical"), profile_column(c, "numerical"), column="x")
    sd = float(np.std(np.sort(r), ddof=1))  # the profile's order, so the same rounding
    if sd > 0:
        assert effect.median_shift_sd == (float(np.median(c)) - float(np.median(r))) / sd


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


def test_numerical_profile_of_arrow_backed_column_treats_nulls_as_null():
    s = pd.Series([1.5, None, 0.5], dtype="double[pyarrow]")
    p = profile_column(s, "numerical")
    np.testing.assert_array_equal(p.values, [0.5, 1.5])
    assert p.null_count == 1


def test_non_numeric_values_in_a_numerical_column_name_the_column():
    with pytest.raises(ColumnError, match="'plan'"):
        profile_column(pd.Series(["a", "b"], dtype=object), "numerical", column="plan")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_benjamini_hochberg_equals_scipys_false_discovery_control(p_values):
    np.testing.assert_allclose(
        adjust_p_values(p_values, "bh"), false_discovery_control(p_values, method="bh")
    )


def test_bonferroni_multiplies_by_the_number_of_tests_capped_at_one():
    np.testing.assert_allclose(adjust_p_values([0.01, 0.2, 0.5], "bonferroni"), [0.03, 0.6, 1.0])
