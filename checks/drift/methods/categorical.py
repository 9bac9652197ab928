"""Tests on value counts: chi-square, z-test, Fisher's exact test and the G-test."""

from __future__ import annotations

import numpy as np

from checks.drift.methods.base import CATEGORICAL, NotApplicable, PValueMethod, UndefinedScore
from checks.drift.profile import ColumnProfile, align_counts


class ChiSquare(PValueMethod):
    """Chi-square goodness of fit of current counts to reference shares scaled to the current size.

    A category absent from the reference has expected count 0, so the statistic is infinite
    and the p-value 0, as in Evidently.
    """

    name = "chisquare"
    display_name = "chi-square p_value"
    column_types = CATEGORICAL

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import chisquare

        _, ref_counts, cur_counts = align_counts(reference, current)
        if ref_counts.size < 2:
            raise UndefinedScore("chi-square needs at least 2 categories")
        expected = ref_counts * (current.count / reference.count)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(chisquare(cur_counts, expected).pvalue)


class ZTest(PValueMethod):
    """Two-proportion pooled z-test of the share of the first (sorted) value, two-sided."""

    name = "z"
    display_name = "Z-test p_value"
    column_types = CATEGORICAL

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.special import ndtr

        keys, ref_counts, cur_counts = align_counts(reference, current)
        if keys.size == 1:
            return 1.0  # both windows hold the same single value (Evidently's special case)
        n1, n2 = reference.count, current.count
        # Evidently encodes the first sorted value as 0 and everything else as 1
        p1 = float(n1 - ref_counts[0]) / n1
        p2 = float(n2 - cur_counts[0]) / n2
        pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
        return float(2 * (1 - ndtr(np.abs(z))))


class FisherExact(PValueMethod):
    """Fisher's exact test on the 2x2 table of a binary column.

    Unlike Evidently, the two windows may differ in size (Evidently raises).
    """

    name = "fisher_exact"
    display_name = "Fisher's Exact test"
    column_types = CATEGORICAL
    default_threshold = 0.1

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import fisher_exact

        keys, ref_counts, cur_counts = align_counts(reference, current)
        if keys.size > 2:
            raise NotApplicable(f"fisher_exact needs a binary column; found {keys.size} values")
        if keys.size == 1:  # Evidently pads with a placeholder category of count 0
            ref_counts, cur_counts = np.append(ref_counts, 0), np.append(cur_counts, 0)
        table = np.array([[cur_counts[1], cur_counts[0]], [ref_counts[1], ref_counts[0]]])
        return float(fisher_exact(table).pvalue)


class GTest(PValueMethod):
    """G-test (log-likelihood ratio) of current counts against reference counts.

    Evidently passes the raw reference counts as expected frequencies, which scipy rejects
    unless both windows have the same size; we scale them to the current size first (the
    same numbers when the sizes are equal).
    """

    name = "g_test"
    display_name = "g_test"
    column_types = CATEGORICAL
    default_threshold = 0.1

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        from scipy.stats import power_divergence

        _, ref_counts, cur_counts = align_counts(reference, current)
        if ref_counts.size < 2:
            raise UndefinedScore("the G-test needs at least 2 categories")
        if reference.count == current.count:
            expected = ref_counts.astype(np.float64)
        else:
            expected = ref_counts * np.float64(current.count / reference.count)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(power_divergence(cur_counts, expected, lambda_="log-likelihood").pvalue)
