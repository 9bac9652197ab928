from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from checks.errors import ChecksError
from checks.metrics import MetricValue
from checks.registry import MetricInputs, get_metric
from checks.thresholds import Bound, check_bound, evaluate_ladder, evaluate_threshold


def acc(value: float | None, labelled: int = 500, reason: str | None = None) -> MetricValue:
    return MetricValue(name="accuracy", value=value, labelled=labelled, reason=reason)


def latency(value: float) -> MetricValue:
    return MetricValue(name="latency_p99", value=value)


@pytest.mark.parametrize(
    ("value", "bound", "passed"),
    [
        (0.80, Bound(min=0.80), True),
        (0.7999, Bound(min=0.80), False),
        (0.8001, Bound(min=0.80), True),
        (0.30, Bound(max=0.30), True),
        (0.3001, Bound(max=0.30), False),
    ],
    ids=["min-at", "min-below", "min-above", "max-at", "max-above"],
)
def test_level_bounds_pass_exactly_at_the_threshold(
    value: float, bound: Bound, passed: bool
) -> None:
    outcome = evaluate_threshold(acc(value), bound)
    assert outcome.passed is passed
    assert outcome.threshold == (bound.min if bound.min is not None else bound.max)


@pytest.mark.parametrize(
    ("reference", "current", "bound", "passed"),
    [
        (0.85, 0.80, Bound(max_drop=0.05), True),
        (0.86, 0.80, Bound(max_drop=0.05), False),
        (0.90, 0.81, Bound(max_drop_relative=0.10), True),
        (0.90, 0.80, Bound(max_drop_relative=0.10), False),
        (0.70, 0.95, Bound(max_drop=0.05), True),
    ],
    ids=["drop-at", "drop-over", "relative-at", "relative-over", "rise"],
)
def test_drop_bounds_compare_with_the_reference_value(
    reference: float, current: float, bound: Bound, passed: bool
) -> None:
    outcome = evaluate_threshold(acc(current), bound, reference=acc(reference))
    assert outcome.passed is passed
    assert outcome.details["reference"] == reference


def test_drop_threshold_is_the_limit_on_the_value() -> None:
    outcome = evaluate_threshold(acc(0.70), Bound(max_drop=0.05), reference=acc(0.86))
    assert outcome.threshold == pytest.approx(0.81)
    assert "dropped 0.16 from reference 0.86" in (outcome.reason or "")


def test_metric_from_data_at_the_bound_passes_and_one_row_worse_fails() -> None:
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 2, 200)
    y_pred = y_true.copy()
    y_pred[:40] = 1 - y_pred[:40]  # exactly 160 of 200 right
    oracle = accuracy_score(y_true, y_pred)
    at = get_metric("accuracy").compute(MetricInputs(y_true=y_true, y_pred=y_pred))
    assert evaluate_threshold(at, Bound(min=oracle)).passed is True
    y_pred[40] = 1 - y_pred[40]
    worse = get_metric("accuracy").compute(MetricInputs(y_true=y_true, y_pred=y_pred))
    assert evaluate_threshold(worse, Bound(min=oracle)).passed is False


def test_fewer_labels_than_min_labels_is_insufficient_never_pass_or_fail() -> None:
    for value in (0.1, 0.99):
        outcome = evaluate_threshold(acc(value, labelled=99), Bound(min=0.8))
        assert outcome.passed is None
        assert outcome.reason == "insufficient data: 99 labelled rows < min_labels 100"
    assert evaluate_threshold(acc(0.1, labelled=100), Bound(min=0.8)).passed is False


def test_min_labels_is_configurable() -> None:
    assert evaluate_threshold(acc(0.5, labelled=20), Bound(min=0.8), min_labels=10).passed is False


def test_operational_metrics_ignore_min_labels() -> None:
    outcome = evaluate_threshold(MetricValue(name="row_count", value=3), Bound(min=500))
    assert outcome.passed is False


def test_undefined_metric_gives_insufficient_with_its_reason() -> None:
    outcome = evaluate_threshold(acc(None, labelled=0, reason="no labelled rows"), Bound(min=0.8))
    assert (outcome.passed, outcome.reason) == (None, "insufficient data: no labelled rows")


def test_drop_bound_without_a_reference_is_insufficient() -> None:
    outcome = evaluate_threshold(acc(0.5), Bound(max_drop=0.05))
    assert outcome.passed is None
    assert "no reference value" in (outcome.reason or "")


def test_drop_bound_with_a_thinly_labelled_reference_is_insufficient() -> None:
    outcome = evaluate_threshold(acc(0.5), Bound(max_drop=0.05), reference=acc(0.9, labelled=30))
    assert outcome.passed is None
    assert "reference has 30 labelled rows" in (outcome.reason or "")


def test_relative_drop_from_a_zero_reference_is_insufficient() -> None:
    ref = MetricValue(name="r2", value=0.0, labelled=500)
    cur = MetricValue(name="r2", value=-0.5, labelled=500)
    assert evaluate_threshold(cur, Bound(max_drop_relative=0.1), reference=ref).passed is None


def test_combined_bounds_fail_when_any_kind_fails() -> None:
    bound = Bound(min=0.6, max_drop=0.05)
    outcome = evaluate_threshold(acc(0.7), bound, reference=acc(0.9))
    assert (outcome.passed, outcome.method) == (False, "min+max_drop")
    assert outcome.threshold == pytest.approx(0.85)


def test_outcome_identifies_the_check_and_carries_counts() -> None:
    value = MetricValue(name="missing_share", value=0.2, details={"rows": 10, "missing": 2})
    outcome = evaluate_threshold(value, Bound(max=0.1), column="income")
    assert outcome.check == "missing_share:income"
    assert outcome.method == "max"
    assert outcome.details["missing"] == 2
    assert outcome.details["bounds"] == {"max": 0.1}


def test_ladder_severity_is_the_worst_level_failing_now() -> None:
    ladder = [Bound(min=0.80, severity="critical"), Bound(min=0.85, severity="warning")]
    assert evaluate_ladder(acc(0.90), ladder)[1] is None
    outcome, severity = evaluate_ladder(acc(0.82), ladder)
    assert (severity, outcome.threshold, outcome.passed) == ("warning", 0.85, False)
    outcome, severity = evaluate_ladder(acc(0.74), ladder)
    assert (severity, outcome.threshold) == ("critical", 0.80)
    assert [level["passed"] for level in outcome.details["levels"]] == [False, False]


def test_ladder_on_too_few_labels_is_insufficient_without_severity() -> None:
    ladder = [Bound(min=0.80, severity="critical"), Bound(min=0.85)]
    outcome, severity = evaluate_ladder(acc(0.1, labelled=5), ladder)
    assert (outcome.passed, severity) == (None, None)


def test_ladder_that_passes_reports_the_mildest_level() -> None:
    ladder = [Bound(max=200, severity="critical"), Bound(max=100, severity="warning")]
    outcome, severity = evaluate_ladder(latency(50.0), ladder)
    assert (outcome.passed, outcome.threshold, severity) == (True, 100, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "at least one of"),
        ({"min": 0.9, "max": 0.8}, "min 0.9 is above max 0.8"),
        ({"max_drop": -0.1}, "max_drop must not be negative"),
        ({"min": 0.8, "severity": "page"}, "unknown severity 'page'"),
    ],
)
def test_invalid_bound_is_rejected_with_the_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(ChecksError, match=message):
        Bound(**kwargs)


def test_drop_bound_on_a_lower_is_better_metric_is_rejected() -> None:
    with pytest.raises(ChecksError, match="'latency_p99': lower is better"):
        check_bound("latency_p99", Bound(max_drop=10))
    with pytest.raises(ChecksError, match="lower is better"):
        evaluate_threshold(latency(5.0), Bound(max_drop=1), reference=latency(3.0))
