"""Parity with Evidently 0.7.23: every method, column kind and size around the 1000-row switch.

Evidently's own stattest code runs inside each test on the same seeded data; scores must agree
to a relative 1e-6 and verdicts exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from checks.drift import METHODS, compare_column
from tests.checks.drift_oracle import evidently_drift

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SIZES = [(200, 300), (1000, 700), (1001, 1200), (5000, 4000)]
Maker = Callable[[np.random.Generator, int, bool], pd.Series]


def _float(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    x = rng.normal(0.15 if shifted else 0.0, 1.0, n)
    x[rng.random(n) < 0.05] = np.nan
    x[:3] = [np.inf, -np.inf, np.nan]
    return pd.Series(x)


def _integer(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    return pd.Series(rng.poisson(21 if shifted else 20, n))  # int64, > 20 distinct values


def _few_values(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    p = [0.3, 0.3, 0.2, 0.2] if shifted else [0.25, 0.25, 0.25, 0.25]
    return pd.Series(rng.choice([0.5, 1.5, 2.5, 7.0], n, p=p))


def _binary_numeric(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    return pd.Series(rng.binomial(1, 0.45 if shifted else 0.4, n).astype(float))


def _strings(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    # "e" appears only in the current window, "a" vanishes from it: new and vanished categories
    if shifted:
        values, p = ["b", "c", "d", "e"], [0.3, 0.3, 0.3, 0.1]
    else:
        values, p = ["a", "b", "c", "d"], [0.1, 0.3, 0.3, 0.3]
    s = pd.Series(rng.choice(values, n, p=p), dtype=object)
    s[rng.random(n) < 0.03] = None
    return s


def _binary_strings(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    return pd.Series(rng.choice(["no", "yes"], n, p=[0.55, 0.45] if shifted else [0.6, 0.4]))


def _int_categories(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    return pd.Series(rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.2, 0.2, 0.2, 0.2, 0.1, 0.1]))


NUMERICAL: dict[str, Maker] = {
    "float": _float,
    "integer": _integer,
    "few_values": _few_values,
    "binary": _binary_numeric,
}
CATEGORICAL: dict[str, Maker] = {
    "strings": _strings,
    "binary_strings": _binary_strings,
    "int_categories": _int_categories,
}


def _data(make: Maker, sizes: tuple[int, int], seed: int = 7) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    return make(rng, sizes[0], False), make(rng, sizes[1], True)


def _methods(column_type: str, *skip: str) -> list[str]:
    return [n for n, m in METHODS.items() if column_type in m.column_types and n not in skip]


def _assert_same(ours: object, theirs: object) -> None:
    assert ours.value == pytest.approx(theirs.score, rel=1e-6, abs=1e-300)  # type: ignore[attr-defined]
    assert ours.drifted is theirs.drifted  # type: ignore[attr-defined]
    assert ours.threshold == theirs.threshold  # type: ignore[attr-defined]


# Permutation tests (O(n^2) MMD, Evidently's slow TVD) and binary-only Fisher are covered below;
# Epps-Singleton on few distinct values has IQR 0, which Evidently refuses (edge-case suite).
NUMERICAL_CASES = [
    (method, kind)
    for method in _methods("numerical", "empirical_mmd")
    for kind in NUMERICAL
    if not (method == "es" and kind in ("few_values", "binary"))  # IQR 0: edge-case suite
]


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: f"{s[0]}v{s[1]}")
@pytest.mark.parametrize(("method", "kind"), NUMERICAL_CASES)
def test_numerical_scores_and_verdicts_equal_evidentlys(method, kind, sizes):
    ref, cur = _data(NUMERICAL[kind], sizes)
    ours = compare_column(ref, cur, column="x", column_type="numerical", method=method)
    _assert_same(ours, evidently_drift(ref, cur, "numerical", method))


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: f"{s[0]}v{s[1]}")
@pytest.mark.parametrize("kind", list(CATEGORICAL))
@pytest.mark.parametrize("method", _methods("categorical", "TVD", "fisher_exact", "g_test"))
def test_categorical_scores_and_verdicts_equal_evidentlys(method, kind, sizes):
    ref, cur = _data(CATEGORICAL[kind], sizes)
    ours = compare_column(ref, cur, column="x", column_type="categorical", method=method)
    _assert_same(ours, evidently_drift(ref, cur, "categorical", method))


EQUAL_SIZE_CASES = [("g_test", k) for k in CATEGORICAL] + [("fisher_exact", "binary_strings")]


@pytest.mark.parametrize("size", [200, 1001, 3000])
@pytest.mark.parametrize(("method", "kind"), EQUAL_SIZE_CASES)
def test_equal_size_count_tests_equal_evidentlys(method, kind, size):
    # Evidently's G-test and Fisher test only run when both windows have the same size
    rng = np.random.default_rng(3)
    ref, cur = CATEGORICAL[kind](rng, size, False), CATEGORICAL[kind](rng, size, True)
    ref, cur = ref.fillna("a"), cur.fillna("b")  # equal sizes after nulls are dropped
    ours = compare_column(ref, cur, column="x", column_type="categorical", method=method)
    _assert_same(ours, evidently_drift(ref, cur, "categorical", method))


@pytest.mark.parametrize("sizes", [(20, 20), (17, 20), (20, 18)], ids=str)
def test_cramer_von_mises_exact_path_equals_evidentlys(sizes):
    # at most 20 values per window: the exact distribution. (Evidently's exact code crashes on
    # numpy 2 for smaller pooled samples; see the edge-case suite.)
    rng = np.random.default_rng(11)
    ref, cur = pd.Series(rng.normal(0, 1, sizes[0])), pd.Series(rng.normal(0.8, 1, sizes[1]))
    ours = compare_column(ref, cur, column="x", column_type="numerical", method="cramer_von_mises")
    _assert_same(ours, evidently_drift(ref, cur, "numerical", "cramer_von_mises"))


@pytest.mark.parametrize("shift", [0.0, 0.03])
def test_ks_asymptotic_path_above_ten_thousand_rows_equals_evidentlys(shift):
    rng = np.random.default_rng(5)
    ref, cur = pd.Series(rng.normal(0, 1, 12000)), pd.Series(rng.normal(shift, 1, 10500))
    ref[::7] = np.round(ref[::7], 1)  # ties across both windows
    cur[::5] = np.round(cur[::5], 1)
    ours = compare_column(ref, cur, column="x", column_type="numerical", method="ks")
    _assert_same(ours, evidently_drift(ref, cur, "numerical", "ks"))


@pytest.mark.parametrize("size", [1000, 1500])
def test_wasserstein_equal_sizes_fast_path_equals_evidentlys(size):
    ref, cur = _data(_integer, (size, size))
    ours = compare_column(ref, cur, column="x", column_type="numerical", method="wasserstein")
    _assert_same(ours, evidently_drift(ref, cur, "numerical", "wasserstein"))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("shift", "sizes"), [(0.0, (60, 80)), (0.2, (150, 120)), (1.0, (40, 30))])
def test_empirical_mmd_equals_evidentlys_with_the_same_seed(shift, sizes, seed):
    # Evidently permutes with the global numpy RNG; fed the same (sorted) values after
    # np.random.seed(seed), it makes exactly our draws
    rng = np.random.default_rng(seed)
    ref = pd.Series(np.sort(rng.normal(0, 1, sizes[0])))
    cur = pd.Series(np.sort(rng.normal(shift, 1, sizes[1])))
    ours = compare_column(
        ref, cur, column="x", column_type="numerical", method="empirical_mmd", seed=seed
    )
    theirs = evidently_drift(ref, cur, "numerical", "empirical_mmd", seed=seed)
    assert ours.value == pytest.approx(theirs.score, abs=0.0101)  # one permutation at most
    assert ours.drifted is theirs.drifted


@pytest.mark.parametrize("kind", list(CATEGORICAL))
@pytest.mark.parametrize("sizes", [(200, 300), (400, 250)], ids=str)
def test_tvd_equals_evidentlys_on_sorted_windows(sizes, kind):
    # Evidently's TVD always seeds 0; on windows sorted by value its draws are ours
    ref, cur = _data(CATEGORICAL[kind], sizes)
    ref, cur = ref.dropna().sort_values(), cur.dropna().sort_values()
    ours = compare_column(ref, cur, column="x", column_type="categorical", method="TVD", seed=0)
    theirs = evidently_drift(ref, cur, "categorical", "TVD")
    assert ours.value == pytest.approx(theirs.score, abs=1e-12)
    assert ours.drifted is theirs.drifted


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: f"{s[0]}v{s[1]}")
@pytest.mark.parametrize(
    ("kind", "column_type"),
    [(k, "numerical") for k in NUMERICAL] + [(k, "categorical") for k in CATEGORICAL],
)
def test_auto_picks_evidentlys_method_with_its_score(kind, column_type, sizes):
    makers = NUMERICAL if column_type == "numerical" else CATEGORICAL
    ref, cur = _data(makers[kind], sizes)
    ours = compare_column(ref, cur, column="x", column_type=column_type)
    theirs = evidently_drift(ref, cur, column_type)
    assert ours.method == theirs.method
    _assert_same(ours, theirs)


@pytest.mark.parametrize("threshold", [0.001, 0.2, 0.5])
@pytest.mark.parametrize("method", ["ks", "psi", "jensenshannon", "anderson", "ed"])
def test_custom_threshold_verdicts_equal_evidentlys(method, threshold):
    ref, cur = _data(_float, (800, 600))
    ours = compare_column(
        ref, cur, column="x", column_type="numerical", method=method, threshold=threshold
    )
    _assert_same(ours, evidently_drift(ref, cur, "numerical", method, threshold))
