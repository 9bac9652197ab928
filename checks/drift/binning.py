"""Binning shared by PSI, KL divergence, Jensen-Shannon and Hellinger, as Evidently bins.

Evidently's ``get_binned_data``: a numerical column with more than 20 distinct reference
values gets equal-width Sturges bins over the combined reference and current sample; every
other column gets one bin per distinct value of either window. Counting from sorted arrays
with ``searchsorted`` gives numpy's histogram counts without a pass over unsorted data.
"""

from __future__ import annotations

import math

import numpy as np

from checks.drift.profile import ColumnProfile, FloatArray, IntArray, align_counts

#: Evidently bins a numerical column by value when it has at most this many distinct values.
MAX_VALUE_BINS = 20


def sturges_edges(lo: float, hi: float, n: int, *, integer: bool = False) -> FloatArray:
    """``np.histogram_bin_edges(a, "sturges")`` for data with min ``lo``, max ``hi``, size ``n``.

    ``integer``: ``a`` has an integer dtype, for which numpy widens bins narrower than 1.
    """
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
        bins = 1
    else:
        width = (hi - lo) / (np.log2(n) + 1.0)
        if integer and width < 1:
            width = 1
        bins = math.ceil((hi - lo) / width) if width else 1
    return np.linspace(lo, hi, bins + 1, endpoint=True)


def histogram_counts(sorted_values: FloatArray, edges: FloatArray) -> IntArray:
    """``np.histogram(values, edges)[0]`` for sorted values (last bin closed on the right)."""
    below = np.searchsorted(sorted_values, edges, side="left")
    below[-1] = np.searchsorted(sorted_values, edges[-1], side="right")
    return np.diff(below).astype(np.int64)


def binned_shares(
    reference: ColumnProfile, current: ColumnProfile, *, fill_zeroes: bool
) -> tuple[FloatArray, FloatArray]:
    """Evidently's ``get_binned_data``: per-bin shares of reference and current."""
    if reference.values is not None and reference.distinct_count > MAX_VALUE_BINS:
        ref, cur = reference.values, _values(current)
        lo = min(ref[0], cur[0]) if cur.size else ref[0]
        hi = max(ref[-1], cur[-1]) if cur.size else ref[-1]
        integer = reference.integer and current.integer
        edges = sturges_edges(float(lo), float(hi), ref.size + cur.size, integer=integer)
        ref_share = histogram_counts(ref, edges) / ref.size
        cur_share = histogram_counts(cur, edges) / cur.size
    else:
        _, ref_counts, cur_counts = align_counts(reference, current)
        ref_share = ref_counts / reference.count
        cur_share = cur_counts / current.count
    if fill_zeroes:
        return _fill_zeroes(ref_share), _fill_zeroes(cur_share)
    return ref_share, cur_share


def _values(profile: ColumnProfile) -> FloatArray:
    if profile.values is None:
        raise TypeError("a numerical reference needs a numerical current profile")
    return profile.values


def _fill_zeroes(shares: FloatArray) -> FloatArray:
    """Evidently's epsilon for empty bins: smallest share / 1e6 if that is <= 1e-4, else 1e-4."""
    nonzero = shares[shares != 0]
    if nonzero.size == shares.size or nonzero.size == 0:
        return shares
    smallest = nonzero.min()
    out = shares.copy()
    out[out == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return out
