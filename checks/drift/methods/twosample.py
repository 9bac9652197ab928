"""Two-sample tests under their own names, where Evidently's namesakes are not what they say.

Evidently's ``chisquare`` and ``g_test`` are goodness-of-fit tests of the current counts
against the reference *sample* taken as the truth, so they ignore the reference's own sampling
error (23-27% false alarms at 5% on equal sizes, docs/drift.md); ``mannw`` is one-sided; and
scipy floors ``anderson``'s p-value at 0.001. Those names keep Evidently's behaviour. These
are the tests the names promise:

- ``chisquare_2s`` / ``g_test_2s``: homogeneity of the 2 x k contingency table of both
  windows' counts (``scipy.stats.chi2_contingency``, Pearson and log-likelihood); a category
  seen in one window only is a count of 0 in the other, not an infinite statistic.
- ``mannw_2s``: two-sided Mann-Whitney U (``scipy.stats.mannwhitneyu``).
- ``anderson_2s``: k-sample Anderson-Darling with a p-value that is not clipped to
  [0.001, 0.25] (see :func:`anderson_p_value`).
"""

from __future__ import annotations

import math

import numpy as np

from checks.drift.methods.base import (
    CATEGORICAL,
    NUMERICAL,
    PValueMethod,
    UndefinedScore,
    values_of,
)
from checks.drift.methods.numerical import MannWhitney, quiet
from checks.drift.profile import ColumnProfile, align_counts

# Scholz & Stephens (1987) critical values of the normalised statistic, as scipy tabulates
# them: t(alpha) = b0 + b1 / sqrt(m) + b2 / m with m = k - 1 (scipy.stats.anderson_ksamp).
_B0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
_B1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
_B2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
_SIG = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])


def anderson_p_value(statistic: float, k: int = 2) -> float:
    """The p-value of the normalised k-sample Anderson-Darling ``statistic``, not clipped.

    Inside scipy's table ([0.001, 0.25]) this is scipy's own value: the quadratic fit of
    log(alpha) on the critical values. Beyond it, log(alpha) continues linearly with the
    slope of the table's outermost segment: the limiting distribution of the statistic is a
    weighted sum of chi-square(1) variables, whose tail is exponential, so log p is
    asymptotically linear in the statistic (the last segment's slope, -0.82 per unit for
    k = 2, is near the limit's -0.76). Above 0.25 the same holds at the other end, capped at 1.
    """
    m = k - 1
    critical = _B0 + _B1 / math.sqrt(m) + _B2 / m
    log_sig = np.log(_SIG)
    if statistic > critical[-1]:
        slope = (log_sig[-1] - log_sig[-2]) / (critical[-1] - critical[-2])
        return math.exp(log_sig[-1] + slope * (statistic - critical[-1]))
    if statistic < critical[0]:
        slope = (log_sig[1] - log_sig[0]) / (critical[1] - critical[0])
        return min(1.0, math.exp(log_sig[0] + slope * (statistic - critical[0])))
    fit = np.polyfit(critical, log_sig, 2)
    return math.exp(float(np.polyval(fit, statistic)))


class ChiSquare2S(PValueMethod):
    """Pearson chi-square test of homogeneity of the two windows' category counts."""

    name = "chisquare_2s"
    display_name = "chi-square (two-sample) p_value"
    column_types = CATEGORICAL

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        return _contingency_p(reference, current, lambda_=None)


class GTest2S(PValueMethod):
    """G-test (log-likelihood ratio) of homogeneity of the two windows' category counts."""

    name = "g_test_2s"
    display_name = "G-test (two-sample) p_value"
    column_types = CATEGORICAL

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        return _contingency_p(reference, current, lambda_="log-likelihood")


def _contingency_p(reference: ColumnProfile, current: ColumnProfile, lambda_: str | None) -> float:
    from scipy.stats import chi2_contingency

    _, ref_counts, cur_counts = align_counts(reference, current)
    if ref_counts.size < 2:
        raise UndefinedScore("a contingency test needs at least 2 categories")
    table = np.vstack((ref_counts, cur_counts))
    # no Yates correction: it is only applied to 2x2 tables and would make binary columns
    # conservative where the others are not
    result = chi2_contingency(table, correction=False, lambda_=lambda_)
    return float(result.pvalue)


class MannWhitney2S(MannWhitney):
    """Mann-Whitney U, two-sided (``scipy.stats.mannwhitneyu``, method auto)."""

    name = "mannw_2s"
    display_name = "Mann-Whitney U (two-sided) p_value"
    alternative = "two-sided"


class AndersonDarling2S(PValueMethod):
    """k-sample Anderson-Darling with an unclipped p-value (:func:`anderson_p_value`)."""

    name = "anderson_2s"
    display_name = "Anderson-Darling (unclipped) p_value"
    column_types = NUMERICAL
    default_threshold = 0.1

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import anderson_ksamp

        u, v = values_of(reference), values_of(current)
        try:
            with quiet():  # scipy warns when it clips its own p-value
                statistic = float(anderson_ksamp([u, v]).statistic)
        except ValueError as exc:  # "needs more than one distinct observation"
            raise UndefinedScore(str(exc)) from exc
        return anderson_p_value(statistic)
