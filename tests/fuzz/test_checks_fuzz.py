"""Property tests: hostile frames (NaN, inf, mixed types, empty, huge cardinality, unicode)
never crash a check and never yield NaN. A ``ChecksError`` naming the column is the one
accepted refusal; anything else is a crash."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.drift import METHODS, compare_column, compare_dataset
from checks.errors import ChecksError
from checks.outcome import Outcome
from checks.registry import MetricInputs, get_metric, metric_names

FUZZ = settings(
    max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
numbers = st.one_of(floats, st.integers(-(10**6), 10**6), st.just(1e308), st.just(-1e-308))
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=6)
mixed = st.one_of(numbers, text, st.none(), st.booleans())
numeric_column = st.lists(st.one_of(numbers, st.none()), max_size=60)
categorical_column = st.lists(st.one_of(text, st.none(), st.integers(-3, 3)), max_size=60)


def _not_nan(value: float | None) -> bool:
    return value is None or not math.isnan(value)


def _assert_clean(outcome: Outcome) -> None:
    assert _not_nan(outcome.value), outcome
    assert _not_nan(outcome.threshold), outcome
    assert outcome.passed in (True, False, None)


def _numeric(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


@FUZZ
@given(
    method=st.sampled_from(sorted(METHODS)),
    reference=numeric_column,
    current=numeric_column,
)
def test_numerical_drift_never_crashes_or_yields_nan(
    method: str, reference: list[Any], current: list[Any]
) -> None:
    if "numerical" not in METHODS[method].column_types:
        method = "auto"
    try:
        outcome = compare_column(
            _numeric(reference),
            _numeric(current),
            column="x",
            column_type="numerical",
            method=method,
        )
    except ChecksError as exc:
        assert "'x'" in str(exc)
        return
    _assert_clean(outcome)


@FUZZ
@given(
    method=st.sampled_from(sorted(METHODS)),
    reference=categorical_column,
    current=categorical_column,
)
def test_categorical_drift_on_unicode_and_mixed_values_never_crashes_or_yields_nan(
    method: str, reference: list[Any], current: list[Any]
) -> None:
    if "categorical" not in METHODS[method].column_types:
        method = "auto"
    try:
        outcome = compare_column(
            pd.Series(reference, dtype=object),
            pd.Series(current, dtype=object),
            column="c",
            column_type="categorical",
            method=method,
        )
    except ChecksError as exc:
        assert "'c'" in str(exc)
        return
    _assert_clean(outcome)


@settings(max_examples=8, derandomize=True, deadline=None)
@given(size=st.integers(1_000, 20_000), seed=st.integers(0, 2**16))
def test_huge_cardinality_categorical_column_is_judged_without_nan(size: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = pd.Series(rng.integers(0, size * 10, size).astype(str))
    current = pd.Series(rng.integers(0, size * 10, size).astype(str))
    outcome = compare_column(reference, current, column="id", column_type="categorical")
    _assert_clean(outcome)


@FUZZ
@given(
    columns=st.dictionaries(
        text.filter(bool), st.lists(mixed, min_size=0, max_size=30), min_size=0, max_size=4
    ),
    current_rows=st.integers(0, 30),
)
def test_dataset_drift_on_random_frames_never_crashes_or_yields_nan(
    columns: dict[str, list[Any]], current_rows: int
) -> None:
    length = min((len(v) for v in columns.values()), default=0)
    reference = pd.DataFrame({k: pd.Series(v[:length], dtype=object) for k, v in columns.items()})
    current = (
        reference.sample(n=current_rows, replace=True, random_state=0) if length else reference
    )
    try:
        result = compare_dataset(reference, current.reset_index(drop=True))
    except ChecksError as exc:
        assert any(repr(name) in str(exc) for name in columns), exc
        return
    assert not math.isnan(result.share_drifted)
    for outcome in (*result.columns, *result.missing):
        _assert_clean(outcome)


@FUZZ
@given(
    metric=st.sampled_from(metric_names()),
    y_true=st.lists(st.one_of(st.sampled_from([0, 1, None]), floats), max_size=40),
    y_other=st.lists(st.one_of(floats, st.sampled_from([0, 1])), max_size=40),
    window=st.floats(0, 1e6),
)
def test_metrics_on_hostile_arrays_never_crash_or_yield_nan(
    metric: str, y_true: list[Any], y_other: list[Any], window: float
) -> None:
    n = min(len(y_true), len(y_other))
    truth = np.array([np.nan if v is None else v for v in y_true[:n]], dtype=float)
    other = np.array(y_other[:n], dtype=float)
    inputs = MetricInputs(
        y_true=truth,
        y_pred=other,
        y_score=other,
        latency=other,
        columns={"x": other},
        rows=n,
        window_seconds=window,
    )
    try:
        value = get_metric(metric).compute(inputs, "x" if metric == "missing_share" else None)
    except ChecksError as exc:
        assert metric in str(exc) or "'x'" in str(exc), exc
        return
    assert value.value is None or math.isfinite(value.value), value
    assert value.value is not None or value.reason
