"""Multiclass accuracy and macro precision/recall/f1 against scikit-learn on seeded data.

scikit-learn's default ``zero_division`` ("warn") returns 0 for an empty per-class ratio and
warns; the expected values below are its default results, with the warning silenced.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from checks.errors import ChecksError
from checks.metrics import MetricValue
from checks.multiclass import class_counts, class_counts_from_pairs, from_class_counts
from checks.registry import MetricInputs, get_metric
from checks.thresholds import Bound, evaluate_threshold

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")

ORACLES: dict[str, Callable[..., float]] = {
    "accuracy": skm.accuracy_score,
    "precision": partial(skm.precision_score, average="macro"),
    "recall": partial(skm.recall_score, average="macro"),
    "f1": partial(skm.f1_score, average="macro"),
}
NAMES = list(ORACLES)


def _compute(name: str, y_true: object, y_pred: object) -> MetricValue:
    return get_metric(name).compute(MetricInputs(y_true=y_true, y_pred=y_pred, multiclass=True))


@pytest.fixture
def three_classes() -> tuple[np.ndarray, np.ndarray]:
    """Classes 0-2 in the target; the model never predicts 2 and sometimes predicts 3,
    which never occurs (a class only in the predictions)."""
    rng = np.random.default_rng(21)
    y_true = rng.choice([0, 1, 2], 600, p=[0.5, 0.3, 0.2])
    y_pred = np.where(rng.random(600) < 0.7, y_true, rng.choice([0, 1, 3], 600))
    y_pred[y_pred == 2] = 1
    return y_true, y_pred


@pytest.mark.parametrize("name", NAMES)
def test_multiclass_metrics_equal_sklearn_macro_with_classes_missing_on_either_side(
    name: str, three_classes: tuple[np.ndarray, np.ndarray]
) -> None:
    y_true, y_pred = three_classes
    assert 2 not in y_pred and 3 in y_pred and 3 not in y_true
    got = _compute(name, y_true, y_pred)
    assert got.value == pytest.approx(ORACLES[name](y_true, y_pred), rel=1e-12)
    assert got.labelled == 600 and got.details["classes"] == 4


def test_a_class_never_predicted_scores_zero_precision_and_is_listed(
    three_classes: tuple[np.ndarray, np.ndarray],
) -> None:
    y_true, y_pred = three_classes
    precision, recall = _compute("precision", y_true, y_pred), _compute("recall", y_true, y_pred)
    assert precision.details["never_predicted"] == ["2"]
    assert recall.details["never_true"] == ["3"]
    explicit = skm.precision_score(y_true, y_pred, average="macro", zero_division=0)
    assert precision.value == pytest.approx(explicit, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_null_labels_and_null_predictions_are_left_out(name: str) -> None:
    rng = np.random.default_rng(5)
    truth = rng.choice(["bird", "cat", "dog"], 300).astype(object)
    pred = np.where(rng.random(300) < 0.6, truth, rng.choice(["bird", "cat", "dog"], 300))
    truth[rng.random(300) < 0.2] = None
    pred = pred.astype(object)
    pred[rng.random(300) < 0.1] = np.nan
    pairs = zip(truth, pred, strict=True)
    keep = np.array([t is not None and isinstance(p, str) for t, p in pairs])
    got = _compute(name, truth, pred)
    expected = ORACLES[name](truth[keep].astype(str), pred[keep].astype(str))
    assert got.value == pytest.approx(expected, rel=1e-12)
    assert got.labelled == int(keep.sum())


@pytest.mark.parametrize("name", NAMES)
def test_integer_target_read_as_floats_with_nan_matches_integer_predictions(name: str) -> None:
    rng = np.random.default_rng(8)
    truth = rng.integers(0, 4, 250).astype(float)
    truth[::7] = np.nan  # an integer column with nulls arrives as floats
    pred = np.where(rng.random(250) < 0.5, np.nan_to_num(truth), rng.integers(0, 4, 250))
    pred = pred.astype(np.int64)
    keep = ~np.isnan(truth)
    expected = ORACLES[name](truth[keep].astype(int), pred[keep])
    assert _compute(name, truth, pred).value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_labels_mixing_text_and_numbers_compare_as_text(name: str) -> None:
    truth = np.array([1, "2", "a", 1.0, "1", 2, "a", None], dtype=object)
    pred = np.array(["1", 2, "a", 1, "a", "2", 3.0, "a"], dtype=object)
    # scikit-learn cannot sort a mix of types; the oracle gets the documented text form
    as_text = ["1", "2", "a", "1", "1", "2", "a"], ["1", "2", "a", "1", "a", "2", "3"]
    expected = ORACLES[name](*as_text)
    got = _compute(name, truth, pred)
    assert got.value == pytest.approx(expected, rel=1e-12) and got.labelled == 7


@pytest.mark.parametrize("name", NAMES)
def test_counts_from_a_group_by_table_give_the_same_values_as_rows(
    name: str, three_classes: tuple[np.ndarray, np.ndarray]
) -> None:
    y_true, y_pred = three_classes
    # as a database returns them: plain Python values, a float target, a null pair
    table = Counter(zip(y_true.astype(float).tolist(), y_pred.tolist(), strict=True))
    pairs = [(t, p, n) for (t, p), n in table.items()] + [(None, 1, 40), (2.0, None, 9)]
    got = from_class_counts(name, class_counts_from_pairs(pairs))
    assert got.value == pytest.approx(ORACLES[name](y_true, y_pred), rel=1e-12)
    assert got.labelled == 600


@pytest.mark.parametrize("name", NAMES)
def test_one_class_on_both_sides_is_perfect_like_sklearn(name: str) -> None:
    y = np.array(["a"] * 5)
    assert _compute(name, y, y).value == pytest.approx(ORACLES[name](y, y))


@pytest.mark.parametrize("name", NAMES)
def test_no_labelled_rows_is_undefined_not_nan(name: str) -> None:
    got = _compute(name, np.array([None, None], dtype=object), np.array(["a", "b"]))
    assert got.value is None and got.reason == "no labelled rows" and got.labelled == 0


def test_fewer_labelled_rows_than_min_labels_is_insufficient_data() -> None:
    truth = np.array(["a", "b", "c", None] * 30, dtype=object)  # 90 labelled rows
    accuracy = _compute("accuracy", truth, np.array(["a", "a", "c", "b"] * 30))
    assert accuracy.labelled == 90
    outcome = evaluate_threshold(accuracy, Bound(min=0.5), min_labels=100)
    assert outcome.passed is None and "insufficient data" in (outcome.reason or "")
    assert evaluate_threshold(accuracy, Bound(min=0.5), min_labels=90).passed is True


@pytest.mark.parametrize("name", ["roc_auc", "log_loss"])
def test_probability_metrics_are_an_error_for_multiclass(name: str) -> None:
    inputs = MetricInputs(y_true=[0, 1, 2], y_score=[0.2, 0.9, 0.4], multiclass=True)
    with pytest.raises(ChecksError, match=rf"'{name}' needs per-class probabilities"):
        get_metric(name).compute(inputs)


def test_multiclass_needs_the_predicted_label_not_a_score() -> None:
    inputs = MetricInputs(y_true=[0, 1, 2], y_score=[0.2, 0.9, 0.4], multiclass=True)
    with pytest.raises(ChecksError, match="'accuracy' needs a prediction"):
        get_metric("accuracy").compute(inputs)


def test_negative_pair_counts_are_an_error() -> None:
    with pytest.raises(ChecksError, match="must not be negative"):
        class_counts_from_pairs([("a", "a", -1)])


def test_unknown_multiclass_metric_names_the_known_ones() -> None:
    with pytest.raises(ChecksError, match="accuracy, precision, recall, f1"):
        from_class_counts("roc_auc", class_counts([1], [1]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2, None]), st.sampled_from([0, 1, 3, None]))))
def test_multiclass_metrics_are_never_nan_and_match_sklearn(pairs: list[tuple]) -> None:
    truth = np.array([t for t, _ in pairs], dtype=object)
    pred = np.array([p for _, p in pairs], dtype=object)
    keep = [t is not None and p is not None for t, p in pairs]
    for name in NAMES:
        got = _compute(name, truth, pred)
        assert (got.value is None) == (got.reason is not None)
        if any(keep):
            expected = ORACLES[name](truth[keep].astype(int), pred[keep].astype(int))
            assert got.value is not None and math.isclose(got.value, expected, rel_tol=1e-12)


def test_docstring_examples_run() -> None:
    import doctest

    import checks.multiclass

    result = doctest.testmod(checks.multiclass)
    assert result.attempted > 0 and result.failed == 0
