"""Drift statistics from counts on reference-quantile bins, for warehouse mode.

A warehouse returns counts per bin, not values. With bins cut at the reference's quantiles
(the edges are computed once from the reference profile and sent to the warehouse), the
statistics exact mode computes from values are computed here from counts:

- KS: ``max |F_ref - F_cur|`` over the bin edges. Within a bin both CDFs rise by at most
  that bin's share, so ``0 <= D_exact - D_binned <= max_j max(r_j, c_j)`` (r, c the bin
  shares): about ``1 / bins`` for quantile bins and unchanged data. Measured in
  bench/false_alarms.py (docs/drift.md, "Binned statistics").
- Wasserstein (normalised by the reference standard deviation): ``integral |F_ref - F_cur|``
  with each CDF linear inside a bin; the outer bins end at the smallest and largest value of
  either window.
- PSI and Jensen-Shannon: defined on bins; on the same edges the two modes give the same value.

A bin is right-closed: value ``x`` falls in bin ``i`` when ``edges[i-1] < x <= edges[i]``,
bin 0 holding ``x <= edges[0]`` and the last bin ``x > edges[-1]`` (SQL:
``CASE WHEN x <= e0 THEN 0 WHEN x <= e1 THEN 1 ... ELSE B END``).
"""

from __future__ import annotations

import numpy as np

from checks.drift.profile import ColumnProfile, FloatArray, IntArray, align_counts

#: the default number of reference-quantile bins of warehouse mode (docs/drift.md, measured)
DEFAULT_BINS = 200
#: shares below this are raised to it in PSI, so an empty bin is finite
PSI_FLOOR = 1e-4


def quantile_edges(sorted_reference: FloatArray, bins: int = DEFAULT_BINS) -> FloatArray:
    """The inner bin edges: the reference's quantiles at 1/bins, ..., (bins-1)/bins, deduplicated
    (a discrete column gets at most one bin per distinct value)."""
    if sorted_reference.size == 0:
        raise ValueError("quantile bins need a reference with values")
    probabilities = np.arange(1, bins) / bins
    return np.unique(sorted_quantiles(sorted_reference, probabilities))


def sorted_quantiles(sorted_values: FloatArray, probabilities: FloatArray) -> FloatArray:
    """``np.quantile(sorted_values, probabilities, method="inverted_cdf")``, read off values
    already sorted: numpy partitions a copy of the whole array for each call (about 15 ms
    at 1M values, once per column per scan), where the order statistics are just indexed.

    The index is numpy's own: ``n * p - 1``, rounded up unless whole, at least 0.
    """
    if np.isnan(sorted_values[-1]):  # numpy sorts NaN last; its quantiles are then NaN
        out: FloatArray = np.quantile(sorted_values, probabilities, method="inverted_cdf")
        return out
    index = sorted_values.size * probabilities - 1
    previous = np.floor(index)
    at = np.where(index - previous == 0, previous, previous + 1).astype(np.intp)
    return sorted_values[np.clip(at, 0, sorted_values.size - 1)]


def bin_counts(values: FloatArray, edges: FloatArray) -> IntArray:
    """Counts per bin (``edges.size + 1`` bins) of finite values, sorted or not."""
    at = np.searchsorted(edges, values, side="left")
    return np.bincount(at, minlength=edges.size + 1).astype(np.int64)


def sorted_bin_counts(sorted_values: FloatArray, edges: FloatArray) -> IntArray:
    """:func:`bin_counts` of sorted values (a profile's): the edges are looked up in the
    values, one binary search per edge instead of one per value."""
    at_most = np.searchsorted(sorted_values, edges, side="right")
    return np.diff(at_most, prepend=0, append=sorted_values.size).astype(np.int64)


def binned_profile(counts: IntArray, *, null_count: int = 0) -> ColumnProfile:
    """A profile of bin counts: keys are the bin numbers, so tests on counts run on it."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum()) + null_count
    keys = np.arange(counts.size, dtype=np.int64)
    return ColumnProfile("categorical", null_count, total, keys=keys, counts=counts)


def ks_binned(ref_counts: IntArray, cur_counts: IntArray) -> float:
    """KS distance between the two CDFs at the bin edges."""
    ref_cdf = np.cumsum(ref_counts) / max(int(ref_counts.sum()), 1)
    cur_cdf = np.cumsum(cur_counts) / max(int(cur_counts.sum()), 1)
    return float(np.max(np.abs(ref_cdf - cur_cdf)))


def wasserstein_binned(
    ref_counts: IntArray,
    cur_counts: IntArray,
    edges: FloatArray,
    *,
    lo: float,
    hi: float,
    scale: float,
) -> float:
    """Wasserstein-1 distance of CDFs linear inside each bin, divided by ``scale`` (at least
    0.001, as Evidently's ``wasserstein``). ``lo``/``hi``: the smallest/largest value seen."""
    points = np.concatenate(([min(lo, edges[0])], edges, [max(hi, edges[-1])]))
    ref_cdf = np.concatenate(([0.0], np.cumsum(ref_counts) / max(int(ref_counts.sum()), 1)))
    cur_cdf = np.concatenate(([0.0], np.cumsum(cur_counts) / max(int(cur_counts.sum()), 1)))
    gap = ref_cdf - cur_cdf
    widths = np.diff(points)
    return float(np.sum(widths * _mean_abs_linear(gap[:-1], gap[1:]))) / max(scale, 0.001)


def _mean_abs_linear(a: FloatArray, b: FloatArray) -> FloatArray:
    """Mean of |x| for x linear from a to b (exact also when the sign changes)."""
    same_sign = a * b >= 0
    total = np.abs(a) + np.abs(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = (a * a + b * b) / (2 * total)
    return np.where(same_sign, total / 2, np.where(total > 0, crossing, 0.0))


def psi(ref_counts: IntArray, cur_counts: IntArray) -> float:
    """Population stability index, ``sum (c - r) ln(c / r)`` of shares floored at 1e-4."""
    r = np.maximum(ref_counts / max(int(np.sum(ref_counts)), 1), PSI_FLOOR)
    c = np.maximum(cur_counts / max(int(np.sum(cur_counts)), 1), PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def jensen_shannon(ref_counts: IntArray, cur_counts: IntArray) -> float:
    """Jensen-Shannon distance, natural log (``scipy.spatial.distance.jensenshannon``)."""
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(ref_counts, cur_counts))


def aligned(reference: ColumnProfile, current: ColumnProfile) -> tuple[IntArray, IntArray]:
    """Counts of both profiles over the union of their keys (bins or categories)."""
    if reference.keys is not None and reference.keys is current.keys:  # draws of one support
        return reference.value_counts[1], current.value_counts[1]
    _, ref_counts, cur_counts = align_counts(reference, current)
    return ref_counts, cur_counts
