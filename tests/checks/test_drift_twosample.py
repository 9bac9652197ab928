"""The two-sample tests under their own names, against scipy on seeded data."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from checks.drift import METHODS, compare_column, get_method
from checks.drift.methods.twosample import anderson_p_value


def _cats(rng: np.random.Generator, n: int, shares: list[float]) -> pd.Series:
    return pd.Series(rng.choice(["a", "b", "c", "d"][: len(shares)], size=n, p=shares))


def _table(ref: pd.Series, cur: pd.Series) -> np.ndarray:
    keys = sorted(set(ref) | set(cur))
    return np.array([[int((s == k).sum()) for k in keys] for s in (ref, cur)])


@pytest.mark.parametrize(
    "lambda_, method", [(None, "chisquare_2s"), ("log-likelihood", "g_test_2s")]
)
@pytest.mark.parametrize("seed, n_ref, n_cur", [(1, 500, 500), (2, 200, 4000), (3, 5000, 80)])
def test_contingency_tests_equal_scipy_chi2_contingency(lambda_, method, seed, n_ref, n_cur):
    rng = np.random.default_rng(seed)
    ref = _cats(rng, n_ref, [0.5, 0.3, 0.2])
    cur = _cats(rng, n_cur, [0.45, 0.3, 0.25])
    expected = stats.chi2_contingency(_table(ref, cur), correction=False, lambda_=lambda_).pvalue
    outcome = compare_column(ref, cur, column="c", column_type="categorical", method=method)
    assert outcome.value == pytest.approx(expected, rel=1e-12)


def test_an_unseen_category_is_a_count_not_a_p_value_of_zero():
    rng = np.random.default_rng(5)
    ref = _cats(rng, 5000, [0.5, 0.3, 0.2])
    cur = pd.concat([_cats(rng, 4999, [0.5, 0.3, 0.2]), pd.Series(["d"])], ignore_index=True)
    evidently = compare_column(ref, cur, column="c", column_type="categorical", method="chisquare")
    two_sample = compare_column(
        ref, cur, column="c", column_type="categorical", method="chisquare_2s"
    )
    assert evidently.value == 0.0
    expected = stats.chi2_contingency(_table(ref, cur), correction=False).pvalue
    assert two_sample.value == pytest.approx(expected, rel=1e-12)
    assert two_sample.value > 0.05


@pytest.mark.parametrize("seed, shift", [(11, 0.0), (12, -0.5), (13, 0.5)])
def test_mannw_2s_is_scipy_two_sided(seed, shift):
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(0, 1, 300), rng.normal(shift, 1, 200)
    expected = stats.mannwhitneyu(ref, cur, alternative="two-sided").pvalue
    outcome = compare_column(ref, cur, column="x", column_type="numerical", method="mannw_2s")
    assert outcome.value == pytest.approx(expected, rel=1e-12)


def test_mannw_2s_detects_a_downward_shift_that_evidentlys_mannw_misses():
    rng = np.random.default_rng(14)
    ref, cur = rng.normal(0, 1, 1000), rng.normal(-0.5, 1, 1000)
    one_sided = compare_column(ref, cur, column="x", column_type="numerical", method="mannw")
    two_sided = compare_column(ref, cur, column="x", column_type="numerical", method="mannw_2s")
    assert one_sided.drifted is False
    assert two_sided.drifted is True


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seed, shift", [(21, 0.0), (22, 0.1), (23, 0.2), (24, 0.3)])
def test_anderson_2s_equals_scipy_inside_scipys_table(seed, shift):
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(0, 1, 400), rng.normal(shift, 1, 300)
    scipy_p = stats.anderson_ksamp([ref, cur]).pvalue
    outcome = compare_column(ref, cur, column="x", column_type="numerical", method="anderson_2s")
    if 0.001 < scipy_p < 0.25:
        assert outcome.value == pytest.approx(scipy_p, rel=1e-9)
    else:  # clipped by scipy: ours lies beyond the clip
        assert (outcome.value <= 0.001) if scipy_p <= 0.001 else (outcome.value >= 0.25)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seed", [40, 41])
def test_anderson_2s_tail_agrees_with_a_permutation_p_value(seed):
    """Below scipy's floor, against scipy's own permutation p-value on 19,999 resamples
    (measured with 99,999: 1.2e-5 vs 1.0e-5, 7.3e-5 vs 7e-5, 9.5e-5 vs 1.2e-4)."""
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(0, 1, 60), rng.normal(0.7, 1, 60)
    method = stats.PermutationMethod(n_resamples=19_999, rng=np.random.default_rng(seed))
    permutation_p = stats.anderson_ksamp([ref, cur], method=method).pvalue
    ours = get_method("anderson_2s").score(*_profiles(ref, cur))
    assert 1e-4 < permutation_p < 1e-3
    assert ours < 1e-3
    assert abs(np.log10(ours) - np.log10(permutation_p)) < 0.25  # within a factor of ~1.8


def test_anderson_2s_keeps_order_where_scipy_floors():
    """Bonferroni over many columns needs p below 0.001 to be ordered, not floored."""
    statistics = [7.0, 9.0, 12.0, 20.0]
    p = [anderson_p_value(s) for s in statistics]
    assert all(a > b for a, b in itertools.pairwise(p))
    assert p[-1] < 1e-6


def _profiles(ref: np.ndarray, cur: np.ndarray):
    from checks.drift import profile_column

    return profile_column(ref, "numerical"), profile_column(cur, "numerical")


def test_evidentlys_names_keep_evidentlys_methods_and_new_names_resolve():
    assert {"chisquare_2s", "g_test_2s", "mannw_2s", "anderson_2s"}.isdisjoint(METHODS)
    for name in ("chisquare_2s", "g_test_2s", "mannw_2s", "anderson_2s"):
        assert get_method(name).name == name
