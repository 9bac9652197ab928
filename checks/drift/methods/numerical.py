"""Tests on numerical values: KS, Wasserstein, energy distance and the scipy-backed p-values.

KS, Wasserstein and energy distance work on the merged sorted samples, computing the same
per-point empirical CDFs scipy computes (and therefore the same scores) without re-sorting.
The other tests call the scipy function Evidently calls, on the sorted values (all of them
are invariant to the order of each sample).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import numpy as np

from checks.drift.methods.base import (
    NUMERICAL,
    Comparison,
    DistanceMethod,
    PValueMethod,
    UndefinedScore,
    values_of,
)
from checks.drift.profile import ColumnProfile, FloatArray, IntArray

#: scipy's ks_2samp is exact up to this many rows per side in its 'auto' mode
KS_MAX_EXACT_N = 10000


#: ``warnings.catch_warnings`` swaps process-wide state; columns run in threads, so one at a time
_WARNINGS_LOCK = threading.Lock()


@contextmanager
def quiet() -> Iterator[None]:
    """Silence scipy's small-sample and precision warnings: the outcome carries the verdict."""
    with _WARNINGS_LOCK, warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def merged_cdfs(u: FloatArray, v: FloatArray) -> tuple[FloatArray, IntArray, IntArray]:
    """Merge two sorted samples; return the merged values and running counts from u and v.

    Inside a run of tied values the running counts are partial, but there the gap to the
    next value is zero, so CDF integrals equal scipy's ``searchsorted(..., 'right')`` ones.
    """
    both = np.concatenate((u, v))
    order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
    merged = both[order]
    from_v = order >= u.size
    cv = np.cumsum(from_v, dtype=np.int64)
    cu = np.arange(1, merged.size + 1, dtype=np.int64) - cv
    return merged, cu, cv


class KS(PValueMethod):
    """Two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``, two-sided, mode auto).

    >>> import numpy as np
    >>> from checks.drift import profile_column
    >>> same = profile_column(np.array([1.0, 2.0, 3.0]), "numerical")
    >>> KS().score(same, same), KS().threshold, KS().comparison
    (1.0, 0.05, '<=')
    """

    name = "ks"
    display_name = "K-S p_value"
    column_types = NUMERICAL
    comparison: ClassVar[Comparison] = "<="

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        u, v = values_of(reference), values_of(current)
        n, m = u.size, v.size
        if max(n, m) <= KS_MAX_EXACT_N:
            from scipy.stats import ks_2samp

            return float(ks_2samp(u, v).pvalue)
        merged, cu, cv = merged_cdfs(u, v)
        last = np.append(merged[1:] != merged[:-1], True)  # the CDFs are right-continuous
        diffs = cu[last] / n - cv[last] / m
        max_s, min_s = diffs.max(), np.clip(-diffs.min(), 0, 1)
        d = min_s if min_s > max_s else max_s
        from scipy.stats import kstwo

        big, small = sorted([float(n), float(m)], reverse=True)
        en = big * small / (big + small)
        return float(np.clip(kstwo.sf(d, np.round(en)), 0, 1))


class Wasserstein(DistanceMethod):
    """Wasserstein-1 distance divided by the reference's population std (at least 0.001).

    >>> import numpy as np
    >>> from checks.drift import profile_column
    >>> ref = profile_column(np.array([0.0, 1.0, 2.0, 3.0]), "numerical")
    >>> cur = profile_column(np.array([1.0, 2.0, 3.0, 4.0]), "numerical")
    >>> method = Wasserstein(threshold=0.5)
    >>> score = method.score(ref, cur)  # every value moved by 1; the std is 1.118
    >>> round(score, 4), method.is_drift(score)
    (0.8944, True)
    """

    name = "wasserstein"
    display_name = "Wasserstein distance (normed)"
    column_types = NUMERICAL

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        u, v = values_of(reference), values_of(current)
        norm = max(reference.std(), 0.001)
        if u.size == v.size:  # equal weights: the quantile functions pair up value by value
            return float(np.mean(np.abs(u - v))) / norm
        merged, cu, cv = merged_cdfs(u, v)
        gaps = np.diff(merged)
        return float(np.dot(np.abs(cu[:-1] / u.size - cv[:-1] / v.size), gaps)) / norm


class EnergyDistance(DistanceMethod):
    """``scipy.stats.energy_distance`` on the raw values (not normalised)."""

    name = "ed"
    display_name = "Energy-distance"
    column_types = NUMERICAL
    comparison: ClassVar[Comparison] = ">"

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        u, v = values_of(reference), values_of(current)
        merged, cu, cv = merged_cdfs(u, v)
        gaps = np.diff(merged)
        cdf_gap = cu[:-1] / u.size - cv[:-1] / v.size
        return float(np.sqrt(2) * np.sqrt(np.dot(np.square(cdf_gap), gaps)))


class AndersonDarling(PValueMethod):
    """k-sample Anderson-Darling (``scipy.stats.anderson_ksamp``; scipy caps p to [0.001, 0.25])."""

    name = "anderson"
    display_name = "Anderson-Darling"
    column_types = NUMERICAL
    default_threshold = 0.1

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import anderson_ksamp

        u, v = values_of(reference), values_of(current)
        try:
            with quiet():  # scipy warns when it caps the p-value
                return float(anderson_ksamp([u, v]).pvalue)
        except ValueError as exc:  # "needs more than one distinct observation"
            raise UndefinedScore(str(exc)) from exc


class CramerVonMises(PValueMethod):
    """Two-sample Cramér-von Mises (exact when both windows have at most 20 values)."""

    name = "cramer_von_mises"
    display_name = "Cramer-von Mises"
    column_types = NUMERICAL
    comparison: ClassVar[Comparison] = "<="
    default_threshold = 0.1

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import cramervonmises_2samp

        u, v = values_of(reference), values_of(current)
        if u.size < 2 or v.size < 2:
            raise UndefinedScore("Cramer-von Mises needs at least 2 values per window")
        return float(cramervonmises_2samp(u, v).pvalue)


class EppsSingleton(PValueMethod):
    """Epps-Singleton test (``scipy.stats.epps_singleton_2samp``)."""

    name = "es"
    display_name = "Epps-Singleton"
    column_types = NUMERICAL

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import epps_singleton_2samp, iqr

        u, v = values_of(reference), values_of(current)
        if iqr(np.concatenate((u, v))) == 0:
            raise UndefinedScore("Epps-Singleton is undefined when the interquartile range is 0")
        try:
            with quiet():
                return float(epps_singleton_2samp(u, v).pvalue)
        except (ValueError, np.linalg.LinAlgError) as exc:  # fewer than 5 values, singular
            raise UndefinedScore(str(exc)) from exc


class MannWhitney(PValueMethod):
    """Mann-Whitney U, one-sided ``alternative="less"`` exactly as Evidently calls it."""

    name = "mannw"
    display_name = "Mann-Whitney U-rank test"
    column_types = NUMERICAL
    alternative = "less"

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import mannwhitneyu

        u, v = values_of(reference), values_of(current)
        return float(mannwhitneyu(u, v, alternative=self.alternative).pvalue)


class TTest(PValueMethod):
    """Student's two-sample t-test with equal variances (``scipy.stats.ttest_ind``)."""

    name = "t_test"
    display_name = "t_test"
    column_types = NUMERICAL

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import ttest_ind

        u, v = values_of(reference), values_of(current)
        with quiet():
            return float(ttest_ind(u, v).pvalue)
