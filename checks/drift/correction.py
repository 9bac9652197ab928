"""Multiple-testing corrections for the p-value columns of one comparison."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

CORRECTIONS = ("bonferroni", "bh")


def adjust_p_values(p_values: npt.ArrayLike, method: str) -> npt.NDArray[np.float64]:
    """Adjusted p-values: ``bonferroni`` min(1, m*p); ``bh`` Benjamini-Hochberg
    (``scipy.stats.false_discovery_control(p, method="bh")``)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method == "bh":
        order = np.argsort(p)
        scaled = p[order] * m / np.arange(1, m + 1)
        # the step-up: each adjusted value is the smallest scaled value at or above its rank
        monotone = np.minimum.accumulate(scaled[::-1])[::-1]
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(monotone, 1.0)
        return adjusted
    raise ValueError(f"unknown correction {method!r}; known: {', '.join(CORRECTIONS)}")
