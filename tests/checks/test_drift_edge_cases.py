"""Deliberate deviations from Evidently: each test runs Evidently on the input and asserts what
it does (NaN or an exception), then what we do. These are the rows of docs/drift.md's table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from checks.drift import compare_column, compare_dataset
from checks.errors import ColumnError
from tests.checks.drift_oracle import evidently_drift, evidently_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def ours(ref, cur, kind, method="auto"):
    return compare_column(ref, cur, column="x", column_type=kind, method=method)


@pytest.mark.parametrize("side", ["reference", "current"])
def test_window_that_is_all_null_gives_insufficient_data_where_evidently_raises(side):
    rng = np.random.default_rng(0)
    good = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    empty = good.assign(b=[np.nan, np.inf] * 150)  # inf counts as null too
    ref, cur = (empty, good) if side == "reference" else (good, empty)
    with pytest.raises(ValueError, match="empty column 'b'"):
        evidently_preset(ref, cur)
    outcome = ours(ref["b"], cur["b"], "numerical")
    assert outcome.drifted is None and outcome.passed is None and outcome.value is None
    assert outcome.reason.startswith("insufficient data")
    assert side in outcome.reason


@pytest.mark.parametrize(
    ("method", "kind", "values"),
    [
        ("chisquare", "categorical", ["a"] * 40),  # one category: evidently issue #1929
        ("g_test", "categorical", ["a"] * 40),
        ("t_test", "numerical", [5.0] * 40),
    ],
)
def test_identical_constant_samples_give_no_drift_where_evidently_gives_nan(method, kind, values):
    s = pd.Series(values)
    assert math.isnan(evidently_drift(s, s, kind, method).score)
    outcome = ours(s, s, kind, method)
    assert outcome.drifted is False
    assert outcome.value == 1.0
    assert "identical constant samples" in outcome.reason


@pytest.mark.parametrize(
    ("method", "message"),
    [("anderson", "more than one distinct observation"), ("es", "interquartile range")],
)
def test_identical_constant_samples_give_no_drift_where_evidently_raises(method, message):
    s = pd.Series([5.0] * 40)
    with pytest.raises(ValueError, match=message):
        evidently_drift(s, s, "numerical", method)
    outcome = ours(s, s, "numerical", method)
    assert (outcome.drifted, outcome.value) == (False, 1.0)


def test_epps_singleton_on_zero_spread_that_differs_is_insufficient_where_evidently_raises():
    ref = pd.Series([1.0] * 40 + [2.0, 3.0])
    cur = pd.Series([1.0] * 30 + [5.0, 9.0])
    with pytest.raises(ValueError, match="interquartile range"):
        evidently_drift(ref, cur, "numerical", "es")
    outcome = ours(ref, cur, "numerical", "es")
    assert outcome.drifted is None
    assert "interquartile range" in outcome.reason


@pytest.mark.parametrize(
    ("method", "evidently_fails"),
    [
        ("cramer_von_mises", pytest.raises(ValueError, match="at least two observations")),
        ("empirical_mmd", pytest.raises(ZeroDivisionError)),
        ("es", None),  # Evidently returns NaN
    ],
)
def test_window_too_small_for_the_test_is_insufficient(method, evidently_fails):
    ref, cur = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), pd.Series([2.0])
    if evidently_fails is None:
        assert math.isnan(evidently_drift(ref, cur, "numerical", method).score)
    else:
        with evidently_fails:
            evidently_drift(ref, cur, "numerical", method, seed=0)
    outcome = ours(ref, cur, "numerical", method)
    assert outcome.drifted is None
    assert outcome.reason.startswith("insufficient data")


def test_g_test_on_windows_of_different_sizes_scales_expected_counts_where_evidently_raises():
    ref, cur = pd.Series(list("aab") * 20), pd.Series(list("abb") * 30)
    with pytest.raises(ValueError, match="sum of the observed frequencies"):
        evidently_drift(ref, cur, "categorical", "g_test")
    expected = np.array([40, 20]) * (90 / 60)  # reference counts of a, b scaled to 90 rows
    oracle = stats.power_divergence([30, 60], expected, lambda_="log-likelihood").pvalue
    outcome = ours(ref, cur, "categorical", "g_test")
    assert outcome.value == pytest.approx(oracle, rel=1e-12)
    assert outcome.drifted is True


def test_fisher_exact_on_windows_of_different_sizes_runs_where_evidently_raises():
    ref, cur = pd.Series(list("aab") * 20), pd.Series(list("abb") * 30)
    with pytest.raises(ValueError, match="not of equal length"):
        evidently_drift(ref, cur, "categorical", "fisher_exact")
    oracle = stats.fisher_exact([[60, 30], [20, 40]]).pvalue
    assert ours(ref, cur, "categorical", "fisher_exact").value == pytest.approx(oracle, rel=1e-12)


def test_exact_cramer_von_mises_on_small_windows_runs_where_evidently_crashes_on_numpy_2():
    ref, cur = pd.Series([1.0, 2, 3, 4, 5, 6]), pd.Series([2.0, 3, 4, 8, 9])
    with pytest.raises(TypeError, match="Cannot cast ufunc"):
        evidently_drift(ref, cur, "numerical", "cramer_von_mises")
    oracle = stats.cramervonmises_2samp(ref, cur, method="exact").pvalue
    assert ours(ref, cur, "numerical", "cramer_von_mises").value == pytest.approx(oracle)


def test_dataset_share_counts_an_insufficient_column_as_compared_and_not_drifted():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 400), "b": rng.normal(0, 1, 400)})
    cur = pd.DataFrame({"a": rng.normal(2, 1, 300), "b": np.full(300, np.nan)})
    with pytest.raises(ValueError, match="empty column 'b'"):
        evidently_preset(ref, cur)
    result = compare_dataset(ref, cur, numerical=["a", "b"], categorical=[])
    assert [c.drifted for c in result.columns] == [True, None]
    assert (result.number_drifted, result.share_drifted, result.dataset_drift) == (1, 0.5, True)


def test_near_unique_strings_are_categorical_with_a_warning_where_evidently_sees_text():
    from evidently.core.datasets import infer_column_type
    from evidently.legacy.core import ColumnType

    ids = pd.Series([f"user-{i}" for i in range(300)])
    assert infer_column_type(ids) == ColumnType.Text
    result = compare_dataset(pd.DataFrame({"id": ids}), pd.DataFrame({"id": ids[:200]}))
    (column,) = result.columns
    assert column.column_type == "categorical"
    assert "near-unique" in column.details["warning"]
    assert "near-unique" in column.reason


def test_fisher_exact_on_more_than_two_values_is_an_error_naming_the_column():
    s = pd.Series(list("abc") * 10)
    with pytest.raises(ValueError, match="binary"):
        evidently_drift(s, s, "categorical", "fisher_exact")
    with pytest.raises(ColumnError, match=r"'x'.*binary"):
        ours(s, s, "categorical", "fisher_exact")


def test_empirical_mmd_refuses_windows_above_its_size_limit_naming_column_and_limit():
    big = pd.Series(np.arange(3000.0))
    with pytest.raises(ColumnError, match=r"'x'.*5000"):
        ours(big, big, "numerical", "empirical_mmd")


def test_method_for_the_other_column_type_is_an_error_as_in_evidently():
    from evidently.legacy.calculations.stattests.registry import StatTestInvalidFeatureTypeError

    s = pd.Series(list("ab") * 10)
    with pytest.raises(StatTestInvalidFeatureTypeError):
        evidently_drift(s, s, "categorical", "ks")
    with pytest.raises(ColumnError, match="'ks' applies to numerical columns"):
        ours(s, s, "categorical", "ks")


@pytest.mark.parametrize(
    ("values", "expected"), [(range(5), "categorical"), (range(50), "numerical")]
)
def test_unsigned_integer_columns_are_typed_like_signed_ones_where_evidently_skips_them(
    values, expected
):
    from evidently.core.datasets import infer_column_type
    from evidently.legacy.core import ColumnType

    from checks.drift import infer_column_types

    column = pd.Series(np.array(list(values) * 4, dtype=np.uint16))
    assert infer_column_type(column) == ColumnType.Unknown
    assert infer_column_types(pd.DataFrame({"u": column})) == {"u": expected}


def test_categories_over_the_cap_are_folded_into_other_where_evidently_keeps_them_all():
    rng = np.random.default_rng(4)
    letters = list("abcdefghijkl")  # 12 categories, two of them rare
    weights = np.array([10] * 10 + [1, 1], dtype=float)
    ref = pd.Series(rng.choice(letters, 3000, p=weights / weights.sum()))
    cur = pd.Series(rng.choice(letters, 3000, p=weights / weights.sum()))
    uncapped = compare_column(ref, cur, column="x", column_type="categorical", method="chisquare")
    evidently = evidently_drift(ref, cur, "categorical", "chisquare")
    assert uncapped.value == pytest.approx(evidently.score, rel=1e-9)  # no cap: Evidently's
    capped = compare_column(
        ref, cur, column="x", column_type="categorical", method="chisquare", max_categories=10
    )

    # The oracle: scipy's chi-square on the 10 most frequent reference and current values of
    # each side, the rest of each side folded into one "other" category.
    def folded(side: pd.Series, kept: list[str]) -> pd.Series:
        return side.where(side.isin(kept), "__other__")

    ref_top = ref.value_counts().index[:10].tolist()
    cur_top = cur.value_counts().index[:10].tolist()
    keys = sorted(set(ref_top) | set(cur_top) | {"__other__"})
    ref_counts = folded(ref, ref_top).value_counts().reindex(keys, fill_value=0)
    cur_counts = folded(cur, cur_top).value_counts().reindex(keys, fill_value=0)
    expected = ref_counts.to_numpy() * (len(cur) / len(ref))
    with np.errstate(divide="ignore", invalid="ignore"):
        oracle = stats.chisquare(cur_counts.to_numpy(), expected).pvalue
    assert capped.value == pytest.approx(oracle, rel=1e-9)
    assert capped.details["categories_kept"] == 10
    assert capped.details["distinct"] == {"reference": 12, "current": 12}
