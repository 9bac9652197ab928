"""The registered drift method names, importable without numpy, pandas or scipy.

Config validation (`monitor status`, `monitor alerts`, ...) checks a method name before any
statistics run; importing :mod:`checks.drift.methods` for that would load scipy and pandas on
every CLI call. ``tests/checks/test_names.py`` keeps this list equal to the registry's.
"""

from __future__ import annotations

from checks.errors import UnknownNameError

#: Evidently's method names, in the order of ``checks.drift.methods.METHODS``.
EVIDENTLY_METHODS: tuple[str, ...] = (
    "ks",
    "chisquare",
    "z",
    "wasserstein",
    "psi",
    "kl_div",
    "jensenshannon",
    "hellinger",
    "anderson",
    "cramer_von_mises",
    "ed",
    "es",
    "fisher_exact",
    "g_test",
    "mannw",
    "t_test",
    "empirical_mmd",
    "TVD",
)
#: Our own two-sample tests, as in ``checks.drift.methods.TWO_SAMPLE``.
TWO_SAMPLE_METHODS: tuple[str, ...] = ("chisquare_2s", "g_test_2s", "mannw_2s", "anderson_2s")


def check_drift_method(name: str) -> str:
    """``name`` if it is a registered drift method; else the error :func:`get_method` raises."""
    if name not in EVIDENTLY_METHODS and name not in TWO_SAMPLE_METHODS:
        raise UnknownNameError("drift method", name, [*EVIDENTLY_METHODS, *TWO_SAMPLE_METHODS])
    return name
