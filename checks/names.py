"""The registered drift method and metric names, importable without numpy, pandas or scipy.

Config validation (`monitor status`, `monitor alerts`, ...) checks a method name before any
statistics run; importing :mod:`checks.drift.methods` for that would load scipy and pandas on
every CLI call, and :mod:`checks.registry` (numpy) for a metric's name.
``tests/checks/test_names.py`` keeps these lists equal to the registries'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


Family = Literal["classification", "regression", "operational", "estimated"]

#: performance estimated without labels (checks.estimated); the realised metric of each
ESTIMATED = {
    f"estimated_{name}": name for name in ("accuracy", "precision", "recall", "f1", "roc_auc")
}
#: the PCA reconstruction error of the whole input (checks.multivariate)
MULTIVARIATE_DRIFT = "multivariate_drift"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSpec:
    """What config validation needs to know of a metric; :mod:`checks.registry` adds the code."""

    name: str
    family: Family
    higher_is_better: bool
    needs_labels: bool
    per_column: bool = False


def _specs(family: Family, labels: bool, **higher: bool) -> dict[str, MetricSpec]:
    return {
        name: MetricSpec(name=name, family=family, higher_is_better=up, needs_labels=labels)
        for name, up in higher.items()
    }


#: Every registered metric, in the order of ``checks.registry``.
METRICS: dict[str, MetricSpec] = {
    **_specs(
        "classification",
        True,
        accuracy=True,
        precision=True,
        recall=True,
        f1=True,
        roc_auc=True,
        log_loss=False,
    ),
    **_specs("regression", True, mae=False, rmse=False, mape=False, r2=True),
    **_specs(
        "operational",
        False,
        row_count=True,
        throughput=True,
        latency_p50=False,
        latency_p95=False,
        latency_p99=False,
    ),
    "missing_share": MetricSpec(
        name="missing_share",
        family="operational",
        higher_is_better=False,
        needs_labels=False,
        per_column=True,
    ),
    **_specs("operational", False, label_coverage=True),
    **_specs("estimated", False, **dict.fromkeys(ESTIMATED, True)),
    MULTIVARIATE_DRIFT: MetricSpec(
        name=MULTIVARIATE_DRIFT,
        family="estimated",
        higher_is_better=False,
        needs_labels=False,
    ),
}


def metric_spec(name: str) -> MetricSpec:
    """The metric registered as ``name``; an unknown name raises, listing the known ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownNameError("metric", name, METRICS) from None
