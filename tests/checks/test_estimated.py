from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn import metrics as skm
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedShuffleSplit

from checks.estimated import (
    ESTIMATED_METRICS,
    BinaryCBPE,
    Calibrator,
    EstimationError,
    MulticlassCBPE,
    check_calibration,
    fit_binary,
    fit_multiclass,
)
from checks.estimated.calibration import midranks, roc_auc, stratified_splits
from checks.estimated.core import estimated_value


def _calibrated(
    rng: np.random.Generator, n: int, shift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from a known probability: the score ``p`` is calibrated by construction."""
    x = rng.normal(shift, 1.0, n)
    p = 1 / (1 + np.exp(-1.5 * x))
    return rng.uniform(size=n) < p, p


@pytest.mark.parametrize(
    ("metric", "oracle"),
    [
        ("accuracy", lambda y, s, pred: skm.accuracy_score(y, pred)),
        ("precision", lambda y, s, pred: skm.precision_score(y, pred)),
        ("recall", lambda y, s, pred: skm.recall_score(y, pred)),
        ("f1", lambda y, s, pred: skm.f1_score(y, pred)),
        ("roc_auc", lambda y, s, pred: skm.roc_auc_score(y, s)),
    ],
)
def test_estimate_with_certain_probabilities_is_the_realised_metric(metric, oracle) -> None:
    # when each row's probability is its label (0 or 1), the expected confusion matrix is the
    # observed one, so CBPE must give scikit-learn's value; scores rounded to create ties
    rng = np.random.default_rng(3)
    score = np.round(rng.uniform(size=3000), 1)
    y = rng.uniform(size=3000) < score
    pred = score >= 0.5
    assert estimated_value(metric, y.astype(float), pred, score) == pytest.approx(
        oracle(y, score, pred), abs=1e-12
    )


def test_uncalibrated_score_is_calibrated_and_estimates_the_realised_accuracy() -> None:
    rng = np.random.default_rng(5)
    y_ref, p_ref = _calibrated(rng, 20_000)
    fitted = fit_binary(y_ref, p_ref**3, decision_threshold=0.125)
    assert fitted.calibration.needed
    assert fitted.calibration.ece_after < fitted.calibration.ece_before
    y, p = _calibrated(rng, 5_000)
    est = fitted.estimate(p**3)
    realised_acc = skm.accuracy_score(y, p**3 >= 0.125)
    assert est["accuracy"].lower <= realised_acc <= est["accuracy"].upper
    assert est["roc_auc"].value == pytest.approx(skm.roc_auc_score(y, p), abs=0.02)
    assert "isotonic-calibrated" in est["accuracy"].how


def test_separable_score_is_left_uncalibrated() -> None:
    y = np.r_[np.zeros(100, bool), np.ones(100, bool)]
    check = check_calibration(y, np.r_[np.full(100, 0.2), np.full(100, 0.9)])
    assert not check.needed and "ROC AUC" in check.reason


def test_sampling_error_is_the_spread_of_the_metric_across_reference_chunks() -> None:
    # the band's sampling error is derived analytically (NannyML); it must match what the
    # realised metric actually does across chunks of the window size
    rng = np.random.default_rng(11)
    y, p = _calibrated(rng, 200_000)
    fitted = fit_binary(y, p)
    size = 2_000
    chunks = [slice(i, i + size) for i in range(0, len(y), size)]
    realised = {
        "accuracy": [skm.accuracy_score(y[c], p[c] >= 0.5) for c in chunks],
        "precision": [skm.precision_score(y[c], p[c] >= 0.5) for c in chunks],
        "recall": [skm.recall_score(y[c], p[c] >= 0.5) for c in chunks],
        "f1": [skm.f1_score(y[c], p[c] >= 0.5) for c in chunks],
        "roc_auc": [skm.roc_auc_score(y[c], p[c]) for c in chunks],
    }
    errors = fitted.estimate(p[:size])
    for metric, values in realised.items():
        assert errors[metric].sampling_error == pytest.approx(np.std(values), rel=0.15), metric


def test_band_covers_the_realised_accuracy_under_covariate_shift() -> None:
    rng = np.random.default_rng(17)
    y_ref, p_ref = _calibrated(rng, 50_000)
    fitted = fit_binary(y_ref, p_ref)
    misses, gaps = 0, []
    for shift in np.linspace(-1.5, 1.5, 30):
        y, p = _calibrated(rng, 2_000, shift)
        est = fitted.estimate(p)["accuracy"]
        realised = skm.accuracy_score(y, p >= 0.5)
        gaps.append(abs(est.value - realised))
        misses += not est.lower <= realised <= est.upper
    assert misses <= 2
    assert np.mean(gaps) <= 0.02


def test_concept_drift_leaves_the_estimate_unchanged() -> None:
    # the documented blind spot: same scores, labels flipped for a third of the rows
    rng = np.random.default_rng(19)
    y_ref, p_ref = _calibrated(rng, 20_000)
    fitted = fit_binary(y_ref, p_ref)
    y, p = _calibrated(rng, 5_000)
    flipped = y ^ (rng.uniform(size=5_000) < 0.33)
    est = fitted.estimate(p)["accuracy"]
    assert est.lower <= skm.accuracy_score(y, p >= 0.5) <= est.upper
    assert skm.accuracy_score(flipped, p >= 0.5) < est.lower


def test_null_scores_are_left_out_and_counted() -> None:
    rng = np.random.default_rng(23)
    y, p = _calibrated(rng, 2_000)
    fitted = fit_binary(y, p)
    live = p.copy()
    live[:100] = np.nan
    est = fitted.estimate(live)
    assert est["accuracy"].rows == 1_900
    assert est["accuracy"].value == pytest.approx(fitted.estimate(p[100:])["accuracy"].value)


def test_empty_window_is_undefined_not_nan() -> None:
    rng = np.random.default_rng(29)
    fitted = fit_binary(*_calibrated(rng, 2_000))
    est = fitted.estimate(np.array([]))
    assert all(e.value is None and e.reason == "no rows" for e in est.values())


def test_bad_input_raises_a_clear_error() -> None:
    rng = np.random.default_rng(31)
    y, p = _calibrated(rng, 100)
    with pytest.raises(EstimationError, match="score outside"):
        fit_binary(y, p * 2)
    with pytest.raises(EstimationError, match="cannot estimate log_loss"):
        fit_binary(y, p, metrics=["accuracy", "log_loss"])
    with pytest.raises(EstimationError, match="20"):
        fit_binary(y[:10], p[:10])
    fitted = fit_binary(y, p)
    with pytest.raises(EstimationError, match="window: score outside"):
        fitted.estimate(p + 1)
    with pytest.raises(EstimationError, match="differ in length"):
        fitted.estimate(p, predicted=p[:5] > 0.5)


def _three_classes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    logits = rng.normal(size=(n, 3)) * 1.5
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array(["a", "b", "c"])[(rng.uniform(size=(n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    return y, {c: p[:, k] for k, c in enumerate("abc")}


def test_multiclass_estimates_track_the_realised_macro_metrics() -> None:
    rng = np.random.default_rng(37)
    y_ref, s_ref = _three_classes(rng, 30_000)
    pred_ref = np.array(list("abc"))[np.column_stack(list(s_ref.values())).argmax(axis=1)]
    fitted = fit_multiclass(y_ref, s_ref, pred_ref)
    y, s = _three_classes(rng, 5_000)
    pred = np.array(list("abc"))[np.column_stack(list(s.values())).argmax(axis=1)]
    est = fitted.estimate(s, pred)
    assert set(est) == set(ESTIMATED_METRICS)
    realised = {
        "accuracy": skm.accuracy_score(y, pred),
        "f1": skm.f1_score(y, pred, average="macro"),
        "roc_auc": skm.roc_auc_score(y, np.column_stack(list(s.values())), multi_class="ovr"),
    }
    for metric, value in realised.items():
        assert est[metric].lower <= value <= est[metric].upper, metric


def test_multiclass_without_per_class_scores_says_why() -> None:
    with pytest.raises(EstimationError, match="one score column per class"):
        fit_multiclass(["a", "b"], None, ["a", "b"])
    with pytest.raises(EstimationError, match="one score column per class"):
        fit_multiclass(["a", "b"], {"a": [0.3, 0.6]}, ["a", "b"])


def test_multiclass_label_without_a_score_column_is_named() -> None:
    rng = np.random.default_rng(41)
    y, s = _three_classes(rng, 200)
    y[0] = "d"
    with pytest.raises(EstimationError, match="labels d have no score column"):
        fit_multiclass(y, s, y)


def test_module_examples_run() -> None:
    import doctest

    import checks.estimated
    import checks.estimated.calibration

    for module in (checks.estimated, checks.estimated.calibration):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed, module.__name__


def test_covariate_shift_that_hurts_accuracy_shows_in_the_first_shifted_window() -> None:
    # reference inputs spread wide (confident scores); live inputs crowd the decision boundary
    rng = np.random.default_rng(43)

    def window(n: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(0.0, spread, n)
        p = 1 / (1 + np.exp(-2.0 * x))
        return rng.uniform(size=n) < p, p

    y_ref, p_ref = window(50_000, 2.0)
    fitted = fit_binary(y_ref, p_ref)
    baseline = skm.accuracy_score(y_ref, p_ref >= 0.5)
    before = fitted.estimate(window(2_000, 2.0)[1])["accuracy"]
    y, p = window(2_000, 0.4)
    after = fitted.estimate(p)["accuracy"]
    assert before.lower <= baseline <= before.upper
    assert after.upper < baseline - 0.1  # a max_drop of 0.1 fires on this window
    assert after.lower <= skm.accuracy_score(y, p >= 0.5) <= after.upper


def test_a_fit_stored_as_json_estimates_exactly_as_the_original() -> None:
    # the service caches the fit as JSON with the reference profile and reads it back
    rng = np.random.default_rng(9)
    y_ref, p_ref = _calibrated(rng, 10_000)
    fitted = fit_binary(y_ref, p_ref**2, decision_threshold=0.3)
    assert fitted.calibrator.calibrates
    again = BinaryCBPE.from_json_dict(json.loads(json.dumps(fitted.to_json_dict())))
    _, p = _calibrated(rng, 3_000, shift=0.5)
    ours, theirs = fitted.estimate(p**2), again.estimate(p**2)
    assert ours == theirs
    assert again.calibration == fitted.calibration


def test_the_calibrator_maps_scores_as_scikit_learns_isotonic_regression() -> None:
    rng = np.random.default_rng(2)
    score = np.round(rng.uniform(size=5_000), 2)  # ties, as real scores have
    y = rng.uniform(size=5_000) < score**2
    regression = IsotonicRegression(out_of_bounds="clip").fit(score, y.astype(float))
    probe = np.concatenate([rng.uniform(-0.2, 1.2, size=10_000), score])
    ours = Calibrator.fit(y, score)
    assert ours.points is not None
    assert np.array_equal(ours.points[0], regression.X_thresholds_)
    np.testing.assert_allclose(ours.points[1], regression.y_thresholds_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours(probe), regression.predict(probe), rtol=0, atol=1e-12)


@pytest.mark.parametrize("decimals", [1, 3, 8])
def test_roc_auc_and_midranks_are_scikit_learns_and_scipys(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    score = np.round(rng.uniform(size=4_000), decimals)
    y = rng.uniform(size=4_000) < score
    assert roc_auc(y, score) == pytest.approx(skm.roc_auc_score(y, score), abs=1e-12)
    np.testing.assert_array_equal(midranks(score), rankdata(score))


@pytest.mark.parametrize(
    ("rows", "positive_share", "seed"),
    [(1_000, 0.5, 42), (9_999, 0.07, 42), (20_001, 0.33, 7), (57, 0.2, 0)],
)
def test_stratified_splits_are_scikit_learns(rows: int, positive_share: float, seed: int) -> None:
    # the calibration check must split exactly as NannyML's StratifiedShuffleSplit does
    rng = np.random.default_rng(rows)
    labels = (rng.uniform(size=rows) < positive_share).astype(float)
    theirs = StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=seed)
    ours = stratified_splits(labels, 10, 0.1, seed)
    for (a_train, a_test), (b_train, b_test) in zip(
        ours, theirs.split(labels, labels), strict=True
    ):
        assert np.array_equal(a_train, b_train) and np.array_equal(a_test, b_test)


def test_a_multiclass_fit_stored_as_json_estimates_exactly_as_the_original() -> None:
    rng = np.random.default_rng(38)
    y_ref, s_ref = _three_classes(rng, 6_000)
    pred_ref = np.array(list("abc"))[np.column_stack(list(s_ref.values())).argmax(axis=1)]
    fitted = fit_multiclass(y_ref, s_ref, pred_ref)
    again = MulticlassCBPE.from_json_dict(json.loads(json.dumps(fitted.to_json_dict())))
    _, s = _three_classes(rng, 2_000)
    pred = np.array(list("abc"))[np.column_stack(list(s.values())).argmax(axis=1)]
    assert again.estimate(s, pred) == fitted.estimate(s, pred)


@pytest.mark.parametrize("groups", [1, 2, 50, 20_000])
def test_isotonic_means_are_scipys_pava(groups: int) -> None:
    from scipy.optimize import isotonic_regression

    from checks.estimated.calibration import isotonic_means

    rng = np.random.default_rng(groups)
    weights = rng.integers(1, 20, size=groups).astype(float)
    sums = rng.binomial(weights.astype(int), np.sort(rng.uniform(size=groups)) ** 2).astype(float)
    expected = isotonic_regression(sums / weights, weights=weights).x
    np.testing.assert_allclose(isotonic_means(sums, weights), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("decimals", [1, 3, None])
def test_midranks_from_a_given_order_are_scipys_average_ranks(decimals: int | None) -> None:
    from checks.estimated.calibration import suborder

    rng = np.random.default_rng(7)
    values = rng.uniform(size=5_000)
    values = values if decimals is None else np.round(values, decimals)
    order = np.argsort(values, kind="stable")
    np.testing.assert_array_equal(midranks(values, order), rankdata(values))
    rows = rng.uniform(size=5_000) < 0.3
    within = suborder(order, rows)
    np.testing.assert_array_equal(within, np.argsort(values[rows], kind="stable"))
    np.testing.assert_array_equal(midranks(values[rows], within), rankdata(values[rows]))


def test_the_calibrator_maps_untied_scores_as_scikit_learns_isotonic_regression() -> None:
    # every row its own group: the fit skips the grouping; scikit-learn keeps a few redundant
    # breakpoints where its pooled means differ in the last bit, so the maps are compared
    rng = np.random.default_rng(11)
    score = rng.uniform(size=20_000)
    y = rng.uniform(size=20_000) < score**2
    regression = IsotonicRegression(out_of_bounds="clip").fit(score, y.astype(float))
    probe = np.concatenate([rng.uniform(-0.2, 1.2, size=10_000), score])
    ours = Calibrator.fit(y, score)
    np.testing.assert_allclose(ours(probe), regression.predict(probe), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "breakpoints",
    [
        np.sort(np.random.default_rng(4).uniform(size=300)),  # at most a few to a table cell
        np.array([0.0, 0.25, 0.5, 0.5 + 2**-17, 0.5 + 2**-16, 1.0]),  # on and inside cell edges
        np.linspace(0.3, 0.3 + 1e-9, 5),  # five in one cell: the binary search instead
        np.array([0.7]),
    ],
    ids=["spread", "cell-edges", "clustered", "one"],
)
def test_locate_counts_the_breakpoints_at_or_below_each_score_as_searchsorted(
    breakpoints: np.ndarray,
) -> None:
    from checks.estimated.calibration import LOCATE_CELLS, locate

    rng = np.random.default_rng(5)
    exact = np.concatenate([breakpoints, np.nextafter(breakpoints, -1), [0.0, 1.0]])
    cells = np.arange(LOCATE_CELLS + 1) / LOCATE_CELLS
    score = np.clip(np.concatenate([rng.uniform(size=100_000), exact, cells]), 0.0, 1.0)
    expected = np.searchsorted(breakpoints, score, side="right")
    np.testing.assert_array_equal(locate(breakpoints, score), expected)
    np.testing.assert_array_equal(locate(breakpoints, score[:1_000]), expected[:1_000])


@pytest.mark.parametrize("decimals", [None, 3], ids=["untied", "tied"])
def test_a_large_calibrated_window_estimates_the_metrics_of_its_expected_confusion_matrix(
    decimals: int | None,
) -> None:
    # a window above the lookup table's size, mapped by scikit-learn's isotonic regression:
    # each row counts as a positive with weight p and a negative with weight 1 - p, so the
    # estimates are scikit-learn's metrics on those weighted rows
    rng = np.random.default_rng(21)
    y_ref, p_ref = _calibrated(rng, 30_000)
    _, p_live = _calibrated(rng, 150_000, shift=0.4)
    score_ref, score = p_ref**2, p_live**2
    if decimals is not None:
        score_ref, score = np.round(score_ref, decimals), np.round(score, decimals)
    fitted = fit_binary(y_ref, score_ref, decision_threshold=0.25)
    assert fitted.calibration.needed
    est = fitted.estimate(score)
    p = IsotonicRegression(out_of_bounds="clip").fit(score_ref, y_ref).predict(score)
    truth = np.r_[np.ones(len(p), bool), np.zeros(len(p), bool)]
    twice, pred, weight = np.r_[score, score], np.r_[score, score] >= 0.25, np.r_[p, 1 - p]
    expected = {
        "accuracy": skm.accuracy_score(truth, pred, sample_weight=weight),
        "precision": skm.precision_score(truth, pred, sample_weight=weight),
        "recall": skm.recall_score(truth, pred, sample_weight=weight),
        "f1": skm.f1_score(truth, pred, sample_weight=weight),
        "roc_auc": skm.roc_auc_score(truth, twice, sample_weight=weight),
    }
    for metric, value in expected.items():
        assert est[metric].value == pytest.approx(value, abs=1e-10), metric
