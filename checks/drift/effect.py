"""Effect sizes a person can read, beside every drift score.

A p-value says how sure a test is that something changed, not how much; at 100k rows a
0.02-sd shift is "significant". So every drift result also says what changed:

- numerical: the shift of the mean and of the median in reference standard deviations;
- categorical: the category whose share changed most, in percentage points, and the share
  of every category the reference never had;
- both: PSI on reference-decile bins (numerical) or on the categories.

>>> import numpy as np
>>> from checks.drift import profile_column
>>> rng = np.random.default_rng(0)
>>> ref = profile_column(rng.normal(50, 10, 5000), "numerical")
>>> cur = profile_column(rng.normal(53, 10, 5000), "numerical")
>>> effect_size(ref, cur, column="income").phrase
'income: mean +0.32 sd'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from checks.drift.binned_stats import psi, quantile_edges, sorted_bin_counts
from checks.drift.profile import ColumnProfile, align_counts
from checks.phrases import effect_phrase, threshold_how

#: PSI of a numerical column is taken on this many reference-quantile bins (deciles)
PSI_BINS = 10

__all__ = ["Effect", "effect_phrase", "effect_size", "threshold_how"]


@dataclass(frozen=True)
class Effect:
    """How much a column changed. Shares and their changes are fractions (0.12 = 12 points)."""

    column: str
    psi: float
    mean_shift_sd: float | None = None
    median_shift_sd: float | None = None
    category: str | None = None
    share_change: float | None = None
    unseen: dict[str, float] = field(default_factory=dict)

    @property
    def phrase(self) -> str:
        """One short line, e.g. "income: mean +0.31 sd" or "city: 'Paris' share +12.0 pts"."""
        if self.mean_shift_sd is not None:
            return f"{self.column}: mean {self.mean_shift_sd:+.2f} sd"
        if self.category is None or self.share_change is None:
            return f"{self.column}: PSI {self.psi:.3f}"
        if self.category in self.unseen:  # a category the reference never had
            return f"{self.column}: new {self.category!r}, {100 * self.share_change:.1f}% of rows"
        text = f"{self.column}: {self.category!r} share {100 * self.share_change:+.1f} pts"
        if self.unseen:
            new, share = max(self.unseen.items(), key=lambda kv: kv[1])
            text += f"; new {new!r} {100 * share:.1f}%"
        return text

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "phrase": self.phrase,
            "psi": self.psi,
            "mean_shift_sd": self.mean_shift_sd,
            "median_shift_sd": self.median_shift_sd,
            "category": self.category,
            "share_change": self.share_change,
            "unseen": dict(self.unseen),
        }


def effect_size(reference: ColumnProfile, current: ColumnProfile, *, column: str) -> Effect:
    """The effect of ``current`` against ``reference`` (both with non-null values)."""
    if reference.values is not None and current.values is not None:
        return _numerical(reference, current.values, column)
    return _categorical(reference, current, column)


def _numerical(reference: ColumnProfile, cur: np.ndarray, column: str) -> Effect:
    """Both hold a profile's sorted values: bins and medians are read off them."""
    ref = cast(np.ndarray, reference.values)
    sd = reference.std(ddof=1) if ref.size > 1 else 0.0
    edges = quantile_edges(ref, PSI_BINS)
    value = psi(sorted_bin_counts(ref, edges), sorted_bin_counts(cur, edges))
    if sd == 0.0:
        return Effect(column=column, psi=value)
    return Effect(
        column=column,
        psi=value,
        mean_shift_sd=(float(np.mean(cur)) - float(np.mean(ref))) / sd,
        median_shift_sd=(_sorted_median(cur) - _sorted_median(ref)) / sd,
    )


def _sorted_median(values: np.ndarray) -> float:
    """``np.median`` of sorted values, without its partitioning copy."""
    middle = values.size // 2
    if values.size % 2:
        return float(values[middle])
    return float((values[middle - 1] + values[middle]) / 2)


def _categorical(reference: ColumnProfile, current: ColumnProfile, column: str) -> Effect:
    keys, ref_counts, cur_counts = align_counts(reference, current)
    ref_share = ref_counts / max(int(ref_counts.sum()), 1)
    cur_share = cur_counts / max(int(cur_counts.sum()), 1)
    change = cur_share - ref_share
    at = int(np.argmax(np.abs(change)))
    unseen = {
        str(k): float(s) for k, r, s in zip(keys, ref_counts, cur_share, strict=True) if r == 0
    }
    return Effect(
        column=column,
        psi=psi(ref_counts, cur_counts),
        category=str(keys[at]),
        share_change=float(change[at]),
        unseen=unseen,
    )
