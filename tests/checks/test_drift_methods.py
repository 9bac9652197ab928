"""Each method against the cases published in Evidently's own test suite, and the registry.

Inputs are quoted from evidently's tests (tests/stattests/test_stattests.py and friends, see
shared/reference/evidently.md section 6) with the expected values and tolerances used there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from checks.drift import METHODS, compare_column, get_method
from checks.errors import UnknownNameError
from tests.checks.drift_oracle import evidently_drift

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ALL_NAMES = {
    "ks", "chisquare", "z", "wasserstein", "psi", "kl_div", "jensenshannon", "hellinger",
    "anderson", "cramer_von_mises", "ed", "es", "fisher_exact", "g_test", "mannw", "t_test",
    "empirical_mmd", "TVD",
}  # fmt: skip


def R6(counts: list[int]) -> pd.Series:  # the notation of evidently.md
    return pd.Series([1, 2, 3, 4, 5, 6]).repeat(counts)


X8 = pd.Series([38.7, 41.5, 43.8, 44.5, 45.5, 46.0, 47.7, 58.0])
Y8 = pd.Series([39.2, 39.3, 39.7, 41.4, 41.8, 42.9, 43.3, 45.8])


def run(method: str, ref: pd.Series, cur: pd.Series, kind: str, threshold: float, seed: int = 0):
    return compare_column(
        ref, cur, column="x", column_type=kind, method=method, threshold=threshold, seed=seed
    )


PUBLISHED = [
    # (method, reference, current, column type, threshold, expected, abs tolerance, drifted)
    (
        "chisquare",
        R6([16, 18, 16, 14, 12, 12]),
        R6([16, 16, 16, 16, 16, 8]),
        "categorical",
        0.5,
        0.67309,
        1e-5,
        False,
    ),
    (
        "hellinger",
        R6([16, 18, 16, 14, 12, 12]),
        R6([16, 16, 16, 16, 16, 8]),
        "categorical",
        0.1,
        0.06812,
        1e-5,
        False,
    ),
    (
        "chisquare",
        R6([x * 2 for x in [16, 18, 16, 14, 12, 12]]),
        R6([16, 16, 16, 16, 16, 8]),
        "categorical",
        0.5,
        0.67309,
        1e-5,
        False,
    ),
    (
        "hellinger",
        R6([x * 2 for x in [16, 18, 16, 14, 12, 12]]),
        R6([16, 16, 16, 16, 16, 8]),
        "categorical",
        0.1,
        0.06812,
        1e-5,
        False,
    ),
    (
        "chisquare",
        pd.Series(["a", "b", np.nan]).repeat([10, 10, 10]),
        pd.Series(["a", "b", np.nan]).repeat([10, 10, 10]),
        "categorical",
        0.5,
        1.0,
        1e-6,
        False,
    ),
    (
        "hellinger",
        pd.Series(["a", "b", np.nan]).repeat([10, 10, 10]),
        pd.Series(["a", "b", np.nan]).repeat([10, 10, 10]),
        "categorical",
        0.1,
        0.0,
        1e-6,
        False,
    ),
    ("anderson", X8, Y8, "numerical", 0.001, 0.0635, 1e-3, False),
    ("t_test", X8, Y8, "numerical", 0.05, 0.084, 1e-3, False),
    (
        "g_test",
        pd.Series(["a", "b", "c"]).repeat([5, 5, 8]),
        pd.Series(["a", "b", "c"]).repeat([4, 6, 8]),
        "categorical",
        0.5,
        0.8176,
        1e-3,
        False,
    ),
    (
        "cramer_von_mises",
        pd.Series(stats.norm.rvs(size=100, random_state=0)),
        pd.Series(stats.norm.rvs(size=100, random_state=1)),
        "numerical",
        0.001,
        0.8076839,
        1e-3,
        False,
    ),
    (
        "mannw",
        R6([16, 18, 16, 14, 12, 12]),
        R6([16, 16, 16, 16, 16, 8]),
        "numerical",
        0.05,
        0.481,
        1e-2,
        False,
    ),
    (
        "es",
        R6([16, 18, 16, 14, 12, 12]),
        R6([16, 16, 16, 16, 16, 8]),
        "numerical",
        0.05,
        0.81,
        1e-2,
        False,
    ),
    ("ed", X8, X8, "numerical", 0.1, 0.0, 1e-5, False),
    ("ed", X8, X8 + 5, "numerical", 0.1, 1.9, 1e-1, True),
    (
        "fisher_exact",
        pd.Series(["a", "b", "b", "a", "a", "b"] * 15),
        pd.Series(["b", "b", "a", "b", "b", "a"] * 15),
        "categorical",
        0.1,
        0.033,
        1e-3,
        True,
    ),
    (
        "fisher_exact",
        pd.Series(["a", "a", "a", "a", "a", "a"]),
        pd.Series(["b", "b", "b", "b", "b", "b"]),
        "categorical",
        0.1,
        0.0021,
        1e-3,
        True,
    ),
    (
        "fisher_exact",
        pd.Series(["a", "a", "a", "b", "b"] * 30),
        pd.Series(["b", "b", "b", "a", "a"] * 30),
        "categorical",
        0.1,
        0.00078,
        1e-3,
        True,
    ),
    (
        "TVD",
        R6([16, 18, 16, 14, 12, 12]),
        R6([10, 10, 24, 24, 10, 10]),
        "categorical",
        0.1,
        0.085,
        1e-3,
        True,
    ),
    (
        "TVD",
        R6([16, 18, 16, 14, 12, 12]),
        R6([0, 0, 0, 0, 0, 88]),
        "categorical",
        0.1,
        0.0,
        1e-3,
        True,
    ),
    (
        "TVD",
        R6([16, 18, 16, 14, 12, 12]),
        R6([10, 24, 12, 16, 8, 16]),
        "categorical",
        0.5,
        0.309,
        1e-3,
        True,
    ),
    (
        "empirical_mmd",
        pd.Series([1, 1, 1, 1, 1] * 5, dtype="float"),
        pd.Series([0, 0, 0, 0, 0] * 5, dtype="float"),
        "numerical",
        0.1,
        0.0,
        1e-1,
        True,
    ),
]


@pytest.mark.parametrize(
    ("method", "ref", "cur", "kind", "threshold", "expected", "tol", "drifted"),
    PUBLISHED,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(PUBLISHED)],
)
def test_published_evidently_case(method, ref, cur, kind, threshold, expected, tol, drifted):
    outcome = run(method, ref, cur, kind, threshold)
    assert outcome.value == pytest.approx(expected, abs=tol)
    assert outcome.drifted is drifted


def test_published_psi_end_to_end_case():
    # tests/multitest/metrics/data_drift.py: ColumnDriftMetric(stattest="psi", threshold=0.1)
    outcome = run("psi", pd.Series([3, 2, 2]), pd.Series([1, 2, 3]), "categorical", 0.1)
    assert outcome.value == pytest.approx(2.93, abs=0.01)
    assert outcome.drifted is True


def test_published_z_test_end_to_end_case():
    # tests/metrics/data_drift/test_data_drift_table.py: DataDriftTable(stattest_threshold=0.7)
    ref, cur = pd.Series(["a", "a", "b", "b"]), pd.Series(["a", "b", "a", np.nan])
    outcome = run("z", ref, cur, "categorical", 0.7)
    assert outcome.value == pytest.approx(0.66, abs=0.01)
    assert outcome.drifted is True


def test_z_test_drops_nulls_like_evidentlys_pipeline():
    # test_z_stat_test_cat_feature calls the bare stattest with the NaNs still in (which then
    # count as "not the first value", p = 1). Evidently's drift pipeline drops nulls first, and
    # so do we: the oracle is Evidently on the null-free windows.
    ref, cur = pd.Series(["a", np.nan] * 10), pd.Series(["a", "b"] * 10)
    outcome = run("z", ref, cur, "categorical", 0.5)
    theirs = evidently_drift(ref, cur, "categorical", "z", 0.5)
    assert outcome.value == pytest.approx(theirs.score, rel=1e-9)
    assert outcome.drifted is theirs.drifted


@pytest.mark.parametrize(
    ("values", "kind", "expected"),
    [
        (pd.Series([1.0] * 10), "numerical", "z"),
        (pd.Series(list(range(1, 12))), "numerical", "ks"),
        (pd.Series(list(range(1, 12)) * 1000), "numerical", "wasserstein"),
        (pd.Series([1, 2, 3, 4, 5] * 1000), "numerical", "jensenshannon"),
        (pd.Series(["a", "b", "c"] * 10), "categorical", "chisquare"),
        (pd.Series(["a", "b"] * 10), "categorical", "z"),
        (pd.Series(["a", "b"] * 10000), "categorical", "jensenshannon"),
    ],
)
def test_published_default_selection_cases(values, kind, expected):
    # tests/stattests/test_registry.py::test_get_default_stattest (reference = current)
    assert compare_column(values, values, column="x", column_type=kind).method == expected


def test_registry_holds_the_eighteen_evidently_methods():
    assert set(METHODS) == ALL_NAMES


def test_unknown_method_error_lists_the_known_names():
    with pytest.raises(UnknownNameError) as err:
        get_method("kolmogorov")
    assert "'kolmogorov'" in str(err.value)
    # Evidently's 18 and our two-sample tests (tests/checks/test_drift_twosample.py)
    assert set(err.value.known) == ALL_NAMES | {
        "chisquare_2s",
        "g_test_2s",
        "mannw_2s",
        "anderson_2s",
    }
    assert "jensenshannon" in str(err.value)


@pytest.mark.parametrize("name", sorted(ALL_NAMES))
def test_method_metadata_equals_evidentlys_registration(name):
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest
    from evidently.legacy.core import ColumnType

    ours = get_method(name)
    kinds = {"numerical": ColumnType.Numerical, "categorical": ColumnType.Categorical}
    for our_kind, their_kind in kinds.items():
        if our_kind in ours.column_types:
            theirs = get_registered_stattest(name, their_kind)
            assert theirs.default_threshold == ours.threshold
            assert theirs.display_name == ours.display_name
    allowed = {
        k
        for k, t in kinds.items()
        if t
        in get_registered_stattest(
            name, next(t for k, t in kinds.items() if k in ours.column_types)
        ).allowed_feature_types
    }
    assert allowed == set(ours.column_types)


def test_constructor_parameters_are_kept_as_attributes():
    mmd = type(get_method("empirical_mmd"))(0.2, permutations=50, max_rows=300)
    assert (mmd.threshold, mmd.permutations, mmd.max_rows) == (0.2, 50, 300)
    tvd = type(get_method("TVD"))(iterations=200)
    assert (tvd.threshold, tvd.iterations) == (0.1, 200)


NUMERIC_DATA = (pd.Series(np.random.default_rng(2).normal(0, 1, 150)),
                pd.Series(np.random.default_rng(3).normal(0.2, 1.1, 120)))  # fmt: skip
CATEGORY_DATA = (pd.Series(list("aaabbbccd") * 15), pd.Series(list("aabbbcccd") * 15))


BINARY_DATA = (pd.Series(list("aab") * 40), pd.Series(list("abb") * 40))


@pytest.mark.parametrize("name", sorted(ALL_NAMES))
def test_drift_at_exactly_the_threshold_follows_evidentlys_comparison(name):
    # With the threshold equal to the score, Evidently's verdict reveals whether it compares
    # with <, <=, >= or >; our method must compare the same way
    kind = "numerical" if "numerical" in get_method(name).column_types else "categorical"
    ref, cur = NUMERIC_DATA if kind == "numerical" else CATEGORY_DATA
    if name == "fisher_exact":
        ref, cur = BINARY_DATA
    score = evidently_drift(ref, cur, kind, name, seed=0).score
    theirs = evidently_drift(ref, cur, kind, name, threshold=score, seed=0)
    assert get_method(name).is_drift(score, score) is theirs.drifted


def _contract_windows(name: str, shift: float) -> tuple[pd.Series, pd.Series, str]:
    rng = np.random.default_rng(21)
    if "numerical" in get_method(name).column_types:
        return pd.Series(rng.normal(0, 1, 300)), pd.Series(rng.normal(shift, 1, 250)), "numerical"
    values = ["a", "b"] if name == "fisher_exact" else ["a", "b", "c"]
    shares = [0.5, 0.5] if name == "fisher_exact" else [0.4, 0.4, 0.2]
    moved = [0.1, 0.9] if name == "fisher_exact" else [0.1, 0.2, 0.7]
    cur = rng.choice(values, 300, p=moved if shift else shares)
    return pd.Series(rng.choice(values, 300, p=shares)), pd.Series(cur), "categorical"


@pytest.mark.parametrize("name", sorted(ALL_NAMES))
def test_every_method_keeps_the_contract(name):
    """Same window twice: no drift. A window moved far: drift. p-values lie in [0, 1]."""
    ref, _, kind = _contract_windows(name, 0.0)
    same = run(name, ref, ref, kind, None)
    assert same.drifted is False
    moved_ref, moved_cur, _ = _contract_windows(name, 3.0)
    moved = run(name, moved_ref, moved_cur, kind, None)
    assert moved.drifted is True
    for outcome in (same, moved):
        assert outcome.kind == get_method(name).kind
        assert outcome.value is not None and outcome.value >= 0
        if outcome.kind == "p_value":
            assert outcome.value <= 1


def test_docstring_examples_run():
    import doctest

    import checks.drift
    import checks.drift.methods.numerical

    for module in (checks.drift, checks.drift.methods.numerical):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


@pytest.mark.parametrize(("moved", "drifted"), [(False, False), (True, True)])
def test_tvd_above_the_replay_size_draws_the_same_null_distribution(moved, drifted):
    from checks.drift import profile_column
    from checks.drift.methods import TVD

    rng = np.random.default_rng(5)
    shares = [0.5, 0.3, 0.2]
    ref = pd.Series(rng.choice(list("abc"), 4000, p=shares))
    cur = pd.Series(rng.choice(list("abc"), 3000, p=[0.46, 0.32, 0.22] if moved else shares))
    profiles = profile_column(ref, "categorical"), profile_column(cur, "categorical")
    replayed = TVD().score(*profiles)
    drawn = TVD(replay_max_rows=1000).score(*profiles)
    assert abs(replayed - drawn) < 0.05  # two Monte Carlo estimates of one p-value
    assert (drawn < 0.1) is drifted and (replayed < 0.1) is drifted
