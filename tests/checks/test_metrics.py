from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from checks import metrics as m
from checks.errors import ChecksError, UnknownNameError
from checks.registry import MetricInputs, get_metric, latency_percentiles, metric_names


@pytest.fixture
def binary() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 2, 400)
    score = np.clip(0.35 * y_true + rng.uniform(0, 0.65, 400), 0, 1)
    return {"y_true": y_true, "score": score, "y_pred": (score >= 0.5).astype(int)}


@pytest.fixture
def regression() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    y_true = rng.normal(50, 10, 300)
    return y_true, y_true + rng.normal(0, 3, 300)


@pytest.mark.parametrize(
    ("name", "oracle"),
    [
        ("accuracy", skm.accuracy_score),
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ],
)
def test_label_metrics_equal_sklearn(name: str, oracle: Callable[..., float], binary: dict) -> None:
    got = get_metric(name).compute(MetricInputs(y_true=binary["y_true"], y_pred=binary["y_pred"]))
    assert got.value == pytest.approx(oracle(binary["y_true"], binary["y_pred"]), rel=1e-12)
    assert got.labelled == 400


def test_score_metrics_equal_sklearn(binary: dict) -> None:
    inputs = MetricInputs(y_true=binary["y_true"], y_score=binary["score"])
    expected_auc = skm.roc_auc_score(binary["y_true"], binary["score"])
    expected_loss = skm.log_loss(binary["y_true"], binary["score"])
    assert get_metric("roc_auc").compute(inputs).value == pytest.approx(expected_auc, rel=1e-12)
    assert get_metric("log_loss").compute(inputs).value == pytest.approx(expected_loss, rel=1e-12)


def test_roc_auc_counts_tied_scores_as_half_like_sklearn() -> None:
    y_true = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    score = np.array([0.2, 0.2, 0.5, 0.5, 0.9, 0.1, 0.5, 0.5])
    assert m.roc_auc(y_true, score).value == pytest.approx(skm.roc_auc_score(y_true, score))


def test_log_loss_clips_certain_wrong_predictions_like_sklearn() -> None:
    y_true, prob = np.array([1, 0, 1]), np.array([0.0, 1.0, 0.7])
    assert m.log_loss(y_true, prob).value == pytest.approx(skm.log_loss(y_true, prob), rel=1e-12)


def test_string_labels_use_the_configured_positive_label(binary: dict) -> None:
    words = np.where(binary["y_true"] == 1, "churn", "stay")
    predicted = np.where(binary["y_pred"] == 1, "churn", "stay")
    inputs = MetricInputs(y_true=words, y_pred=predicted, positive_label="stay")
    expected = skm.precision_score(words, predicted, pos_label="stay")
    assert get_metric("precision").compute(inputs).value == pytest.approx(expected)


def test_score_only_gives_the_label_through_decision_threshold(binary: dict) -> None:
    inputs = MetricInputs(y_true=binary["y_true"], y_score=binary["score"], decision_threshold=0.6)
    expected = skm.recall_score(binary["y_true"], binary["score"] >= 0.6)
    assert get_metric("recall").compute(inputs).value == pytest.approx(expected)


def test_unlabelled_rows_are_left_out_and_not_counted(binary: dict) -> None:
    y_true = binary["y_true"].astype(float)
    y_true[:150] = np.nan
    got = get_metric("accuracy").compute(MetricInputs(y_true=y_true, y_pred=binary["y_pred"]))
    expected = skm.accuracy_score(binary["y_true"][150:], binary["y_pred"][150:])
    assert (got.value, got.labelled) == (pytest.approx(expected), 250)


def test_object_targets_with_none_are_unlabelled() -> None:
    got = m.accuracy(np.array([1, None, 0, None], dtype=object), np.array([1, 1, 1, 0]))
    assert (got.value, got.labelled) == (0.5, 2)


@pytest.mark.parametrize(
    ("name", "oracle"),
    [
        ("mae", skm.mean_absolute_error),
        ("rmse", skm.root_mean_squared_error),
        ("mape", skm.mean_absolute_percentage_error),
        ("r2", skm.r2_score),
    ],
)
def test_regression_metrics_equal_sklearn(
    name: str, oracle: Callable[..., float], regression: tuple
) -> None:
    y_true, y_pred = regression
    got = get_metric(name).compute(MetricInputs(y_true=y_true, y_pred=y_pred))
    assert got.value == pytest.approx(oracle(y_true, y_pred), rel=1e-12)


def test_mape_leaves_out_zero_true_values_and_counts_them(regression: tuple) -> None:
    y_true, y_pred = regression[0].copy(), regression[1]
    y_true[:10] = 0.0
    got = m.mape(y_true, y_pred)
    expected = skm.mean_absolute_percentage_error(y_true[10:], y_pred[10:])
    assert got.value == pytest.approx(expected, rel=1e-12)
    assert got.details["zero_true"] == 10


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (m.roc_auc(np.ones(50), np.linspace(0, 1, 50)), "only one class among labelled rows"),
        (m.precision(np.array([1, 0, 1]), np.array([0, 0, 0])), "no predicted positives"),
        (m.recall(np.array([0, 0, 0]), np.array([1, 0, 1])), "no actual positives"),
        (m.f1(np.array([0, 0]), np.array([0, 0])), "no predicted and no actual positives"),
        (m.mape(np.zeros(5), np.ones(5)), "every true value is 0"),
        (m.r2(np.full(5, 3.0), np.arange(5.0)), "true values are constant"),
        (m.r2(np.array([1.0]), np.array([2.0])), "fewer than 2 labelled rows"),
        (m.accuracy(np.array([]), np.array([])), "no labelled rows"),
        (m.log_loss(np.array([np.nan]), np.array([0.3])), "no labelled rows"),
        (m.mae(np.array([]), np.array([])), "no labelled rows"),
        (m.latency_percentile(np.array([np.nan, np.nan]), 99), "no rows with a latency"),
        (m.missing_share(np.array([])), "no rows"),
        (m.label_coverage(np.array([])), "no rows"),
    ],
)
def test_undefined_metric_has_no_value_and_a_reason(result: m.MetricValue, reason: str) -> None:
    assert result.value is None
    assert result.reason == reason


def test_f1_is_zero_not_undefined_when_every_prediction_is_wrong() -> None:
    y_true, y_pred = np.array([1, 1, 0]), np.array([0, 0, 1])
    assert m.f1(y_true, y_pred).value == skm.f1_score(y_true, y_pred) == 0.0


def test_latency_percentiles_equal_numpy_linear_interpolation() -> None:
    rng = np.random.default_rng(3)
    latency = rng.lognormal(3, 0.6, 1001)
    latency[::50] = np.nan
    inputs = MetricInputs(latency=latency)
    for q in (50, 95, 99):
        expected = np.nanpercentile(latency, q)
        assert get_metric(f"latency_p{q}").compute(inputs).value == pytest.approx(expected)


def test_percentiles_asked_together_are_each_numpys_exactly() -> None:
    rng = np.random.default_rng(11)
    latency = rng.lognormal(3, 0.6, 10_001).astype(np.float32).astype(np.float64)
    latency[::37] = np.nan
    clean = latency[~np.isnan(latency)]
    together = m.latency_percentiles(latency, [50, 95, 99, 99.9])
    for q, value in together.items():
        assert value.value == float(np.percentile(clean, q)) and value.details["rows"] == len(clean)
    inputs = MetricInputs(latency=latency)
    assert get_metric("latency_p99").compute(inputs).value == together[99].value
    assert latency_percentiles(inputs, [50, 95, 99]) == {q: together[q] for q in (50, 95, 99)}


def test_metrics_sharing_one_inputs_equal_each_on_its_own() -> None:
    """Confusion counts, scored pairs and percentiles are computed once per inputs; every
    metric still equals what it gives on inputs of its own."""
    rng = np.random.default_rng(5)
    n = 5_000
    truth = rng.integers(0, 2, n).astype(float)
    truth[::13] = np.nan
    score = np.round(rng.random(n), 2)  # many ties
    latency = rng.lognormal(3, 0.5, n)

    def fresh() -> MetricInputs:
        return MetricInputs(y_true=truth, y_score=score, latency=latency)

    shared = fresh()
    names = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "latency_p50"]
    names += ["latency_p95", "latency_p99"]
    for name in [*names, *reversed(names)]:
        assert get_metric(name).compute(shared) == get_metric(name).compute(fresh())
    labelled = ~np.isnan(truth)
    expected_auc = skm.roc_auc_score(truth[labelled], score[labelled])
    assert get_metric("roc_auc").compute(shared).value == pytest.approx(expected_auc, rel=1e-15)


def test_throughput_divides_rows_by_the_window_length() -> None:
    inputs = MetricInputs(rows=1200, window_seconds=3600.0)
    assert get_metric("throughput").compute(inputs).value == pytest.approx(1200 / 3600)


def test_zero_rows_is_a_row_count_of_zero_not_missing_data() -> None:
    assert get_metric("row_count").compute(MetricInputs(rows=0)).value == 0.0


def test_missing_share_counts_none_nan_and_nat() -> None:
    values = np.array(["a", None, float("nan"), "b", np.datetime64("NaT")], dtype=object)
    inputs = MetricInputs(columns={"plan": values})
    got = get_metric("missing_share").compute(inputs, column="plan")
    assert (got.value, got.details["missing"]) == (0.6, 3)


def test_label_coverage_is_labelled_rows_over_rows_and_needs_no_min_labels() -> None:
    got = get_metric("label_coverage").compute(MetricInputs(y_true=[1.0, None, 0.0, None]))
    assert (got.value, got.labelled) == (0.5, None)


def test_no_metric_returns_nan_on_degenerate_inputs() -> None:
    degenerate = [np.array([]), np.full(3, np.nan), np.zeros(4), np.ones(4)]
    for values in degenerate:
        for fn in (m.accuracy, m.roc_auc, m.log_loss, m.precision, m.recall, m.f1):
            result = fn(values, np.clip(values, 0, 1))
            assert result.value is None or not math.isnan(result.value)
        for fn in (m.mae, m.rmse, m.mape, m.r2):
            result = fn(values, values)
            assert result.value is None or not math.isnan(result.value)


def test_probabilities_outside_unit_interval_are_an_error_for_log_loss() -> None:
    with pytest.raises(ChecksError, match=r"log_loss needs probabilities in \[0, 1\]"):
        m.log_loss(np.array([1, 0]), np.array([1.5, 0.2]))


def test_arrays_of_different_lengths_are_an_error() -> None:
    with pytest.raises(ChecksError, match="same length"):
        m.accuracy(np.array([1, 0, 1]), np.array([1, 0]))


def test_missing_input_names_the_metric_and_what_it_needs() -> None:
    with pytest.raises(ChecksError, match="'roc_auc' needs a score or probability"):
        get_metric("roc_auc").compute(MetricInputs(y_true=[1, 0], y_pred=[1, 0]))


def test_unknown_metric_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_metric("acuracy")
    assert "accuracy" in str(info.value)
    assert info.value.known == metric_names()
    assert len(metric_names()) == 23  # 17 computed from arrays, 6 fitted on the reference


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 1.0, float("nan")]), max_size=30),
    st.data(),
)
def test_classification_metrics_are_never_nan(truth: list[float], data: st.DataObject) -> None:
    score = data.draw(
        st.lists(st.floats(0, 1) | st.just(float("nan")), min_size=len(truth), max_size=len(truth))
    )
    inputs = MetricInputs(y_true=np.array(truth), y_score=np.array(score))
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"):
        result = get_metric(name).compute(inputs)
        assert (result.value is None) == (result.reason is not None)
        assert result.value is None or math.isfinite(result.value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), max_size=30))
def test_regression_metrics_are_never_nan(pairs: list[tuple[float, float]]) -> None:
    y_true = np.array([t for t, _ in pairs])
    y_pred = np.array([p for _, p in pairs])
    for name in ("mae", "rmse", "mape", "r2"):
        result = get_metric(name).compute(MetricInputs(y_true=y_true, y_pred=y_pred))
        assert (result.value is None) == (result.reason is not None)
        assert result.value is None or math.isfinite(result.value)


def test_a_binary_model_whose_labels_hold_three_classes_is_an_error_not_a_wrong_number() -> None:
    """Scored as "is it the positive label", a 3-class model's accuracy would look fine."""
    three = MetricInputs(y_true=[0, 1, 2, 1, None], y_pred=[0, 1, 1, 1, 0])
    with pytest.raises(
        ChecksError, match=r"accuracy: the target holds more than two classes.*multiclass"
    ):
        get_metric("accuracy").compute(three)
    predicted = MetricInputs(
        y_true=["no", "yes", "no"], y_pred=["no", "maybe", "yes"], positive_label="yes"
    )
    with pytest.raises(ChecksError, match="f1: the prediction holds more than two classes"):
        get_metric("f1").compute(predicted)
    # Two classes in any spelling, with nulls, are fine.
    two = MetricInputs(y_true=[0.0, 1.0, None, 0.0], y_pred=[0, 1, 1, 1])
    assert get_metric("accuracy").compute(two).value == pytest.approx(2 / 3)
