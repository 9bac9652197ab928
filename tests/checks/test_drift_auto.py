"""``auto`` method choice, column typing and whole-dataset drift, against Evidently 0.7."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control

from checks.drift import (
    METHODS,
    ColumnSpec,
    compare_dataset,
    infer_column_types,
    missing_share_check,
    profile_column,
)
from checks.errors import ColumnError, UnknownNameError
from tests.checks.drift_oracle import evidently_drift, evidently_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _windows(rows: int, distinct: int, kind: str) -> tuple[pd.Series, pd.Series]:
    """``rows`` non-null reference rows (plus nulls that must not count) and a current window;
    together they hold ``distinct`` values, the last one only in the current window."""
    values = (
        [float(v) for v in range(distinct)]
        if kind == "numerical"
        else [f"v{v}" for v in range(distinct)]
    )
    ref_values = values[:-1] if distinct > 1 else values
    ref = pd.Series([ref_values[i % len(ref_values)] for i in range(rows)] + [None] * 30)
    cur = pd.Series([values[i % len(values)] for i in range(400)])
    if kind == "numerical":
        ref, cur = ref.astype(float), cur.astype(float)
    return ref, cur


@pytest.mark.parametrize("rows", [999, 1000, 1001])
@pytest.mark.parametrize("distinct", [1, 2, 3, 5, 6, 25])
@pytest.mark.parametrize("kind", ["numerical", "categorical"])
def test_auto_choice_equals_evidentlys_default_stattest(kind, distinct, rows):
    from checks.drift import compare_column

    ref, cur = _windows(rows, distinct, kind)
    theirs = evidently_drift(ref, cur, kind)
    ours = compare_column(ref, cur, column="x", column_type=kind)
    assert ours.method == theirs.method
    assert ours.value == pytest.approx(theirs.score, rel=1e-6, abs=1e-300)
    assert ours.drifted is theirs.drifted


def _frame(rng: np.random.Generator, n: int, drift: bool) -> pd.DataFrame:
    shift = 1.0 if drift else 0.0
    plan_shares = [0.2, 0.3, 0.5] if drift else [0.5, 0.3, 0.2]
    return pd.DataFrame(
        {
            "age": rng.normal(40 + 8 * shift, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "visits": rng.poisson(30, n),  # int, > 10 distinct: numerical
            "rating": rng.integers(1, 6, n),  # int, <= 10 distinct: categorical
            "plan": rng.choice(["basic", "pro", "team"], n, p=plan_shares),
            "region": rng.choice(["eu", "us"], n, p=[0.6, 0.4]),
            "churned": rng.random(n) < 0.3,
        }
    )


@pytest.mark.parametrize(("n_ref", "n_cur"), [(600, 500), (3000, 2000)])
def test_dataset_drift_equals_evidentlys_data_drift_preset(n_ref, n_cur):
    rng = np.random.default_rng(42)
    ref, cur = _frame(rng, n_ref, False), _frame(rng, n_cur, True)
    theirs = evidently_preset(ref, cur)
    ours = compare_dataset(ref, cur)
    assert {c.column for c in ours.columns} == set(theirs["columns"])
    for column in ours.columns:
        expected = theirs["columns"][column.column]
        assert METHODS[column.method].display_name == expected["method"], column.column
        assert column.threshold == expected["threshold"]
        assert column.value == pytest.approx(expected["score"], rel=1e-6, abs=1e-300)
        assert column.drifted is expected["drifted"], column.column
    assert ours.share_drifted == pytest.approx(theirs["share"])
    assert ours.dataset_drift is theirs["dataset_drift"]


def test_column_types_are_inferred_as_evidently_infers_them():
    from evidently.core.datasets import infer_column_type

    rng = np.random.default_rng(1)
    df = _frame(rng, 300, False).assign(
        code=pd.Series(rng.choice(["a", "b"], 300)).astype("category"),
        ratio=rng.random(300).astype(np.float32),
    )
    ours = infer_column_types(df)
    names = {"num": "numerical", "cat": "categorical"}
    for name in df.columns:
        assert ours[name] == names[infer_column_type(df[name]).value], name


def _two_windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({f"n{i}": rng.normal(0, 1, 500) for i in range(4)})
    shifts = [0.3, 0.22, 0.0, 0.02]  # KS p-values of n1..n3: about 0.04, 0.09, 0.7
    cur = pd.DataFrame({f"n{i}": rng.normal(shifts[i], 1, 400) for i in range(4)})
    return ref, cur


def test_method_and_threshold_apply_to_every_column_unless_per_column_overrides_them():
    ref, cur = _two_windows()
    result = compare_dataset(
        ref, cur, method="psi", threshold=0.05,
        per_column={
            "n1": ColumnSpec(threshold=0.2),
            "n2": ColumnSpec(method="jensenshannon"),
            "n3": ColumnSpec(method="wasserstein", threshold=0.3),
        },
    )  # fmt: skip
    methods = {c.column: (c.method, c.threshold) for c in result.columns}
    assert methods == {
        "n0": ("psi", 0.05),
        "n1": ("psi", 0.2),  # its own threshold, the dataset's method
        "n2": ("jensenshannon", 0.1),  # its own method brings its default threshold
        "n3": ("wasserstein", 0.3),
    }
    for c in result.columns:
        theirs = evidently_drift(ref[c.column], cur[c.column], "numerical", c.method, c.threshold)
        assert c.value == pytest.approx(theirs.score, rel=1e-6)
        assert c.drifted is theirs.drifted


def test_profiles_give_the_same_result_as_data_frames():
    ref, cur = _two_windows()
    frames = compare_dataset(ref, cur)
    profiles = compare_dataset(
        {c: profile_column(ref[c], "numerical") for c in ref.columns},
        {c: profile_column(cur[c], "numerical") for c in cur.columns},
    )
    assert profiles.to_json_dict() == frames.to_json_dict()


def test_json_document_has_the_monitor_drift_shape():
    ref, cur = _two_windows()
    cur.loc[:19, "n0"] = np.nan
    doc = compare_dataset(ref, cur).to_json_dict()
    assert set(doc) == {"columns", "share_drifted", "dataset_drift"}
    first = doc["columns"][0]
    assert set(first) == {
        "column", "type", "method", "kind", "score", "threshold", "drifted", "reason",
        "missing_share",
    }  # fmt: skip
    assert first["missing_share"] == {"reference": 0.0, "current": 20 / 400}
    assert (first["type"], first["kind"]) == ("numerical", "p_value")


@pytest.mark.parametrize("correction", ["bonferroni", "bh"])
def test_correction_adjusts_verdicts_of_p_value_columns_only(correction):
    ref, cur = _two_windows()
    plain = compare_dataset(ref, cur, per_column={"n0": ColumnSpec("wasserstein")})
    fixed = compare_dataset(
        ref, cur, per_column={"n0": ColumnSpec("wasserstein")}, correction=correction
    )
    tested = [c for c in plain.columns if c.kind == "p_value"]
    p = np.array([c.value for c in tested])
    if correction == "bh":
        adjusted = false_discovery_control(p, method="bh")
    else:
        adjusted = np.minimum(p * p.size, 1)
    by_name = {c.column: c for c in fixed.columns}
    for c, adj in zip(tested, adjusted, strict=True):
        assert by_name[c.column].value == c.value  # the score stays Evidently's
        assert by_name[c.column].drifted is bool(adj <= c.threshold)  # ks drifts at p <= thr
    assert by_name["n0"].drifted is plain.columns[0].drifted  # a distance is not corrected
    assert plain.number_drifted > fixed.number_drifted  # the correction changed a verdict


def test_unknown_correction_lists_the_known_ones():
    ref, cur = _two_windows()
    with pytest.raises(UnknownNameError, match=r"bh, bonferroni"):
        compare_dataset(ref, cur, correction="holm")


def test_missing_column_and_stray_per_column_setting_name_the_column():
    ref, cur = _two_windows()
    with pytest.raises(ColumnError, match=r"'n1'.*current"):
        compare_dataset(ref, cur.drop(columns="n1"), numerical=["n1"], categorical=[])
    with pytest.raises(ColumnError, match="'zzz'"):
        compare_dataset(ref, cur, per_column={"zzz": ColumnSpec("ks")})


@pytest.mark.parametrize(
    ("current_nulls", "passed"), [(10, True), (15, True), (16, False)]
)  # fmt: skip
def test_missing_share_fails_only_when_the_increase_exceeds_the_tolerance(current_nulls, passed):
    ref = pd.Series([1.0] * 95 + [np.nan] * 5)  # 5 % missing
    cur = pd.Series([1.0] * (100 - current_nulls) + [np.nan] * current_nulls)
    outcome = missing_share_check(ref, cur, column="income", tolerance=0.10)
    assert outcome.check == "missing_share:income"
    assert outcome.passed is passed
    assert outcome.value == current_nulls / 100
    assert outcome.details["reference"] == 0.05


def test_missing_share_checks_sit_beside_each_drift_test():
    ref, cur = _two_windows()
    cur.loc[:99, "n2"] = np.inf  # 25 % of the current window is now null
    result = compare_dataset(ref, cur)
    assert [m.check for m in result.missing] == [f"missing_share:n{i}" for i in range(4)]
    assert [m.passed for m in result.missing] == [True, True, False, True]


def test_arrow_backed_frames_give_the_same_result_as_numpy_backed_ones():
    # pd.read_parquet(..., dtype_backend="pyarrow") is the fast way to read large windows
    rng = np.random.default_rng(8)
    ref, cur = _frame(rng, 1500, False), _frame(rng, 1200, True)
    ref.loc[::50, "age"] = np.nan
    cur.loc[::40, "plan"] = None
    arrow = compare_dataset(ref.convert_dtypes(dtype_backend="pyarrow"),
                            cur.convert_dtypes(dtype_backend="pyarrow"))  # fmt: skip
    assert arrow.to_json_dict() == compare_dataset(ref, cur).to_json_dict()
