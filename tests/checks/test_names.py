"""The light list of drift method names matches the registry that runs them."""

from __future__ import annotations

import pytest

from checks.drift.methods import METHODS, TWO_SAMPLE, get_method
from checks.errors import UnknownNameError
from checks.names import EVIDENTLY_METHODS, TWO_SAMPLE_METHODS, check_drift_method


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
