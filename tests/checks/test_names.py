"""The light lists of drift method and metric names match the registries that run them."""

from __future__ import annotations

import pytest

from checks.drift.methods import METHODS, TWO_SAMPLE, get_method
from checks.errors import UnknownNameError
from checks.names import (
    EVIDENTLY_METHODS,
    METRICS,
    TWO_SAMPLE_METHODS,
    check_drift_method,
    metric_spec,
)
from checks.registry import get_metric, metric_names


def test_names_equal_the_registry() -> None:
    assert list(EVIDENTLY_METHODS) == list(METHODS)
    assert list(TWO_SAMPLE_METHODS) == list(TWO_SAMPLE)


def test_unknown_name_error_is_the_registry_s() -> None:
    with pytest.raises(UnknownNameError) as light:
        check_drift_method("kss")
    with pytest.raises(UnknownNameError) as full:
        get_method("kss")
    assert str(light.value) == str(full.value)
    assert check_drift_method("mannw_2s") == "mannw_2s"


def test_metric_specs_equal_the_registry() -> None:
    assert sorted(METRICS) == metric_names()
    for name, spec in METRICS.items():
        metric = get_metric(name)
        assert (metric.family, metric.higher_is_better, metric.needs_labels, metric.per_column) == (
            spec.family,
            spec.higher_is_better,
            spec.needs_labels,
            spec.per_column,
        )


def test_unknown_metric_error_is_the_registry_s() -> None:
    with pytest.raises(UnknownNameError) as light:
        metric_spec("acuracy")
    with pytest.raises(UnknownNameError) as full:
        get_metric("acuracy")
    assert str(light.value) == str(full.value)
