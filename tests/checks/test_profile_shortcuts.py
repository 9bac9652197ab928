"""Shortcuts on sorted profiles against numpy: quantiles read off sorted values (numpy's
``inverted_cdf``) and a profile's standard deviation (``np.std``), bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.drift import profile_column
from checks.drift.binned_stats import quantile_edges, sorted_quantiles

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(-5, 5) | finite, min_size=1, max_size=400),
    st.integers(2, 250),
)
def test_sorted_quantiles_equal_numpys_inverted_cdf(values, bins):
    a = np.sort(np.array(values, dtype=np.float64))
    probabilities = np.arange(1, bins) / bins
    expected = np.quantile(a, probabilities, method="inverted_cdf")
    np.testing.assert_array_equal(sorted_quantiles(a, probabilities), expected)


@pytest.mark.parametrize("n", [1, 2, 7, 10, 199, 200, 201, 1000, 100_003, 1_000_000])
@pytest.mark.parametrize("bins", [7, 10, 20, 200])
def test_quantile_edges_equal_numpys_at_sizes_where_n_times_p_is_whole(n, bins):
    # n * k / bins is a whole number for some k at most of these sizes: the index rule's edge
    a = np.sort(np.random.default_rng(n + bins).normal(0, 1, n).round(2))
    expected = np.unique(np.quantile(a, np.arange(1, bins) / bins, method="inverted_cdf"))
    np.testing.assert_array_equal(quantile_edges(a, bins), expected)


def test_sorted_quantiles_with_nan_last_are_numpys_nan():
    a = np.array([1.0, 2.0, 3.0, np.nan])
    probabilities = np.array([0.25, 0.5])
    np.testing.assert_array_equal(
        sorted_quantiles(a, probabilities),
        np.quantile(a, probabilities, method="inverted_cdf"),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-5, 5) | st.floats(-1e9, 1e9), min_size=1, max_size=400))
def test_profile_std_equals_numpys_bit_for_bit(values):
    profile = profile_column(np.array(values, dtype=np.float64), "numerical")
    for ddof in (0, 1):
        if profile.values.size > ddof:
            assert profile.std(ddof) == float(np.std(profile.values, ddof=ddof))


def test_profile_std_of_a_large_skewed_column_equals_numpys():
    values = np.random.default_rng(5).lognormal(0, 2, 1_000_000)
    profile = profile_column(values, "numerical")
    assert profile.std() == float(np.std(profile.values))
    assert profile.std(ddof=1) == float(np.std(profile.values, ddof=1))


def test_profile_std_of_one_value_with_ddof_1_is_numpys_nan():
    profile = profile_column(np.array([3.0]), "numerical")
    with pytest.warns(RuntimeWarning):
        assert np.isnan(profile.std(ddof=1))
