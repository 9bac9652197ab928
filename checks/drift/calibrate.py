"""Drift thresholds learnt from the reference itself, at the live window's size.

A fixed threshold (p < 0.05, distance >= 0.1) means a different false-alarm rate at every
window size: Evidently's defaults flag dataset drift in 98.5% of unchanged 50-row windows
and miss a 10-point share change at every size. Here each column's threshold is the
``1 - false_alarm_rate`` quantile of its own score under "no change", learnt at the live
window's size, so an unchanged column alerts in ``false_alarm_rate`` of scans (default 1%)
at every size, on every distribution.

How the "no change" scores are drawn (NannyML's anchor is reference chunks: it scores
consecutive reference chunks of the analysis chunk size against the whole reference and
sets thresholds at mean +- 3 sd of those scores, nannyml/thresholds.py):

- ``chunks``: when the reference, in row order, holds at least ``MIN_CHUNKS`` (500)
  disjoint chunks of the live size, each chunk is scored against the rest of the reference
  (not the whole: a chunk's values tie with themselves there, which shrinks KS). Real
  chunks keep what resampling loses (a weekly pattern inside the reference is "no change").
- ``resample`` otherwise (live windows larger than N/500, and cached profiles without row
  order): a two-sample bootstrap, a reference of N rows and a window of n rows both drawn
  with replacement from the reference, so both samples' noise is in the score (drawing only
  the window would miss the reference's own sampling error, which dominates when n >= N).
  Draws are counts over the reference's distinct values (or bins, or categories). A value
  that occurs once in the reference stands for a continuous distribution: there a draw's
  tie between the two samples is one a new window would not have, and KS takes the larger
  of the two orders (conservative; calibrated.py ``ks_from_counts``).

Where scores are quantiles of ``draws`` draws, the threshold is the order statistic that
gives an exceedance probability of at most ``false_alarm_rate`` for a new exchangeable draw.
A mean +- 3 sd rule (NannyML's) assumes normal scores; drift scores are skewed, and the
quantile is what a false-alarm rate asks for.

Per scan, not per column: ``false_alarm_rate`` is the share of unchanged *scans* in which any
column alerts. A scan judging ``k`` columns learns each column's threshold at ``rate / k``
(Bonferroni: P(any of k alerts) <= sum of their rates, whatever the columns' dependence;
Sidak's ``1 - (1 - rate) ** (1 / k)`` differs by under 0.5% of the rate and needs
independence). Measured with 8 columns at a per-column 1%, 4-8% of unchanged scans had some
column alert; split, at most ``rate``. The order statistic needs ``B + 1 >= k / rate`` draws
(:func:`draws_needed`): 4,000 draws cover up to 40 columns at 1%; more columns cost
proportionally more draws, once per reference and live-size bucket (cached).

Dataset drift: with ``k`` columns each alerting at rate ``a``, dataset drift needs at least
``m`` drifted columns, the smallest ``m`` with ``P(Binomial(k, a) >= m) <= dataset_rate``
(1%). With the per-scan split (``a = rate / k``) and the default 1%, ``m`` is 1: a dataset
alert is any column alert, and both happen in at most 1% of unchanged scans.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from checks.drift.profile import ColumnProfile, FloatArray, IntArray, profile_column

Direction = Literal[">", "<"]
Source = Literal["chunks", "resample"]
Score = Callable[[ColumnProfile, ColumnProfile], float]
#: scores a batch of draws at once: (draws x values) reference and live counts -> draws scores
CountsScore = Callable[[IntArray, IntArray, npt.NDArray[np.bool_]], FloatArray]
#: cells of one batch of count draws (draws x distinct values), about 32 MB of int64
BATCH_CELLS = 4_000_000

DEFAULT_FALSE_ALARM_RATE = 0.01
DEFAULT_DATASET_RATE = 0.01
#: below this many non-null live values a drift check is "insufficient data" (docs/drift.md)
DEFAULT_MIN_ROWS = 100
#: about the 5th largest score is the threshold at 1% over 8 columns: with 1,000 draws it
#: was the largest, whose noise flipped 1.4% of exact vs warehouse verdicts (docs/drift.md)
DEFAULT_DRAWS = 4000
MIN_CHUNKS = 500


@dataclass(frozen=True)
class Calibration:
    """A column's learnt threshold: drift when ``score <direction> threshold``.

    Cache it with the reference profile, keyed by ``(fingerprint, method, live_size_bucket)``.
    """

    method: str
    threshold: float
    direction: Direction
    false_alarm_rate: float
    source: Source
    draws: int
    live_size_bucket: int
    reference_rows: int
    fingerprint: str | None = None
    #: the drift-checked columns of the scan the per-scan ``false_alarm_rate`` is split over
    columns: int = 1

    @property
    def column_rate(self) -> float:
        """The false-alarm rate of this column alone: the scan's rate split over its columns."""
        return column_rate(self.false_alarm_rate, self.columns)

    def is_drift(self, score: float) -> bool:
        return score > self.threshold if self.direction == ">" else score < self.threshold

    @property
    def how(self) -> str:
        """e.g. "ad > 4.21: 99.875th percentile of 4000 resampled windows of 1000 rows
        (1% of scans over 8 columns)"."""
        pct = 100 * (1 - self.column_rate) if self.direction == ">" else 100 * self.column_rate
        what = "reference chunks" if self.source == "chunks" else "resampled windows"
        split = f" over {self.columns} columns" if self.columns > 1 else ""
        return (
            f"{self.method} {self.direction} {self.threshold:.4g}: "
            f"{pct:.4g}th percentile of {self.draws} {what} of {self.live_size_bucket} rows "
            f"({100 * self.false_alarm_rate:g}% of scans{split})"
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {**asdict(self), "how": self.how}

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Calibration:
        fields = {k: v for k, v in data.items() if k != "how"}
        return cls(**fields)


def column_rate(false_alarm_rate: float, columns: int) -> float:
    """Each column's share of a scan's false-alarm rate (Bonferroni).

    >>> column_rate(0.01, 8)
    0.00125
    """
    if columns < 1:
        raise ValueError(f"a scan judges at least one column, got {columns}")
    return false_alarm_rate / columns


def draws_needed(rate: float, draws: int = DEFAULT_DRAWS) -> int:
    """At least ``draws``, and enough that the order statistic of :func:`_quantile` exists at
    ``rate`` (``B + 1 >= 1 / rate``): 4,000 up to a rate of 1/4001, then ``ceil(1 / rate) - 1``.

    >>> draws_needed(0.01), draws_needed(0.01 / 8), draws_needed(0.01 / 100)
    (4000, 4000, 9999)
    """
    return max(draws, math.ceil(1 / rate - 1e-9) - 1)


#: live-size buckets per decade (the R10 preferred numbers): 100, 125, 160, 200, 250, ...
_STEPS = (1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0)


def live_size_bucket(n: int) -> int:
    """The window size a calibration is learnt at: ``n`` rounded down to a preferred number
    (..., 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, ...).

    A score's noise shrinks as the window grows, so a threshold learnt at the bucket's lower
    end is at most slightly conservative (by at most 27% in size) for every window in it."""
    if n < 1:
        raise ValueError(f"a live window needs at least one row, got {n}")
    decade = 10 ** math.floor(math.log10(n) + 1e-12)
    size: int = max(
        math.floor(decade * step + 1e-9) for step in _STEPS if decade * step <= n + 1e-9
    )
    return size


def calibrate(
    reference: pd.Series | np.ndarray | ColumnProfile,
    *,
    method: str,
    score: Score,
    direction: Direction,
    live_rows: int,
    column_type: Literal["numerical", "categorical"] = "numerical",
    false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE,
    columns: int = 1,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    fingerprint: str | None = None,
    binner: Callable[[ColumnProfile], ColumnProfile] | None = None,
    counts_score: CountsScore | None = None,
    support: int | None = None,
) -> Calibration:
    """Learn the threshold of ``score`` for live windows of ``live_rows`` non-null values.

    ``reference``: raw values in row order (chunks possible) or a profile (resampling only).
    ``binner`` turns a profile into its binned form (warehouse mode): scores are then learnt
    on the binned statistic, as warehouse mode will compute it. ``counts_score`` scores
    resampled draws given as counts over the reference's distinct values (no values are
    materialised: 10x faster on large references), told which values occur once.
    ``support``: resampled draws are counts over at most this many groups of adjacent
    reference values (equal-count groups), for a statistic whose cost grows with the distinct
    values and whose draws tie anyway (AD: measured in docs/drift.md).
    ``false_alarm_rate`` is per scan of ``columns`` columns; the threshold is learnt at
    :func:`column_rate`, with at least :func:`draws_needed` draws.
    """
    if not 0 < false_alarm_rate < 0.5:
        raise ValueError(f"false_alarm_rate must be in (0, 0.5), got {false_alarm_rate}")
    rate = column_rate(false_alarm_rate, columns)
    draws = draws_needed(rate, draws)
    bucket = live_size_bucket(live_rows)
    full = _profile(reference, column_type)
    if full.count == 0:
        raise ValueError(f"{method}: the reference has no non-null values to calibrate on")
    scored = binner or (lambda p: p)
    kept = None if isinstance(reference, ColumnProfile) else _non_null(reference, column_type)
    rng = np.random.default_rng(seed)
    if kept is not None and len(kept) // bucket >= max(MIN_CHUNKS, draws_needed(rate, 0)):
        source: Source = "chunks"
        scores = [
            score(scored(rest), scored(chunk))
            for rest, chunk in _chunks(kept, full, bucket, draws, rng)
        ]
    else:
        source = "resample"
        base = scored(full) if binner is not None else full
        if support is not None and binner is None and base.value_counts[1].size > support:
            base = _grouped(base, support)
        draw = _drawer(base, rng)
        if counts_score is not None:
            # a bin is never one value: only an exact profile's singletons tie in draws
            once = base.value_counts[1] == (1 if binner is None else -1)
            many = _batch_drawer(base, rng)
            batch = max(1, BATCH_CELLS // max(once.size, full.count))
            scores = []
            for start in range(0, draws, batch):
                size = min(batch, draws - start)
                scores += counts_score(many(full.count, size), many(bucket, size), once).tolist()
        else:
            scores = [score(draw(full.count), draw(bucket)) for _ in range(draws)]
    values = np.sort(np.asarray([s for s in scores if not math.isnan(s)], dtype=np.float64))
    if values.size == 0:
        raise ValueError(f"{method}: the score is undefined on every draw of the reference")
    return Calibration(
        method=method,
        threshold=_quantile(values, rate, direction),
        direction=direction,
        false_alarm_rate=false_alarm_rate,
        source=source,
        draws=int(values.size),
        live_size_bucket=bucket,
        reference_rows=full.count,
        fingerprint=fingerprint,
        columns=columns,
    )


def _quantile(sorted_scores: FloatArray, rate: float, direction: Direction) -> float:
    """The order statistic a new draw exceeds with probability at most ``rate``.

    Of B exchangeable draws plus a new one, the new one is above the j-th largest of the B
    with probability (j) / (B + 1) at most; j = floor(rate * (B + 1)), at least 1."""
    b = sorted_scores.size
    j = max(1, math.floor(rate * (b + 1)))
    if direction == ">":
        return float(sorted_scores[b - j])
    return float(sorted_scores[j - 1])


def _profile(reference: pd.Series | np.ndarray | ColumnProfile, column_type: str) -> ColumnProfile:
    if isinstance(reference, ColumnProfile):
        return reference
    return profile_column(reference, column_type)  # type: ignore[arg-type]


def _non_null(values: pd.Series | np.ndarray, column_type: str) -> np.ndarray:
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if column_type == "numerical":
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        finite: np.ndarray = numbers[np.isfinite(numbers)]
        return finite
    present: np.ndarray = series[series.notna()].to_numpy()
    return present


def _chunks(
    kept: np.ndarray, full: ColumnProfile, size: int, limit: int, rng: np.random.Generator
) -> Iterator[tuple[ColumnProfile, ColumnProfile]]:
    """Consecutive chunks of ``size`` values, each with the rest of the reference (disjoint
    from it: scored against a reference that holds its own values, KS would see ties a new
    window never has). At most ``limit`` chunks, chosen at random."""
    count = len(kept) // size
    for i in sorted(rng.choice(count, size=min(count, limit), replace=False)):
        chunk = profile_column(kept[i * size : (i + 1) * size], full.column_type)
        yield _without(full, chunk), chunk


def _without(full: ColumnProfile, part: ColumnProfile) -> ColumnProfile:
    """``full`` less the values of ``part`` (a subset of it), without sorting again."""
    if full.values is not None and part.values is not None:
        sorted_part = part.values
        at = np.searchsorted(full.values, sorted_part, side="left")
        at += np.arange(at.size) - np.searchsorted(sorted_part, sorted_part, side="left")
        rest = np.delete(full.values, at)
        return ColumnProfile("numerical", 0, rest.size, values=rest)
    keys, counts = full.value_counts
    part_keys, part_counts = part.value_counts
    left = counts.copy()
    left[np.searchsorted(keys, part_keys)] -= part_counts
    return ColumnProfile("categorical", 0, int(left.sum()), keys=keys, counts=left)


def _grouped(profile: ColumnProfile, groups: int) -> ColumnProfile:
    """``profile``'s counts merged into about ``groups`` runs of adjacent values of equal
    total count (a value is never split), as counts over group numbers."""
    counts = profile.value_counts[1]
    before = np.cumsum(counts) - counts
    which = (before * groups) // max(int(counts.sum()), 1)
    merged = np.bincount(which, weights=counts).astype(np.int64)
    merged = merged[merged > 0]
    keys = np.arange(merged.size, dtype=np.int64)
    return ColumnProfile("categorical", 0, int(merged.sum()), keys=keys, counts=merged)


def _drawer(profile: ColumnProfile, rng: np.random.Generator) -> Callable[[int], ColumnProfile]:
    """Draws of ``n`` values with replacement from ``profile``, as categorical profiles of
    counts over its distinct values (numerical values, categories or bins)."""
    keys, counts = profile.value_counts
    shares = counts / counts.sum()
    rows = np.repeat(np.arange(keys.size), counts) if keys.size > 64 else None

    def draw(n: int) -> ColumnProfile:
        if rows is None:  # few keys: one binomial per key
            drawn = rng.multinomial(n, shares)
        else:  # many keys: draw rows, then count them per key
            drawn = np.bincount(rows[rng.integers(0, rows.size, n)], minlength=keys.size)
        return ColumnProfile("categorical", 0, n, keys=keys, counts=drawn)

    return draw


def _batch_drawer(
    profile: ColumnProfile, rng: np.random.Generator
) -> Callable[[int, int], IntArray]:
    """``size`` draws of ``n`` values with replacement from ``profile`` at once, as a
    (size x distinct values) count matrix: one numpy call per batch instead of per draw."""
    keys, counts = profile.value_counts
    shares = counts / counts.sum()
    rows = np.repeat(np.arange(keys.size), counts) if keys.size > 64 else None

    def draw(n: int, size: int) -> IntArray:
        if rows is None or n >= 8 * keys.size:  # a binomial per key costs less than n rows
            drawn: IntArray = rng.multinomial(n, shares, size=size)
            return drawn
        picked = rows[rng.integers(0, rows.size, (size, n))]
        picked += np.arange(size)[:, None] * keys.size
        flat: IntArray = np.bincount(picked.ravel(), minlength=size * keys.size)
        return flat.reshape(size, keys.size)

    return draw


def dataset_rule(
    columns: int,
    *,
    false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE,
    dataset_rate: float = DEFAULT_DATASET_RATE,
) -> int:
    """The fewest drifted columns that make dataset drift: the smallest ``m`` with
    ``P(Binomial(columns, false_alarm_rate) >= m) <= dataset_rate``.

    >>> dataset_rule(1), dataset_rule(11), dataset_rule(100)
    (1, 2, 5)
    """
    from scipy.stats import binom

    for m in range(1, columns + 1):
        if binom.sf(m - 1, columns, false_alarm_rate) <= dataset_rate:
            return m
    return columns
