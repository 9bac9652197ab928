"""Distances between binned distributions: PSI, KL divergence, Jensen-Shannon, Hellinger.

Computed in numpy with scipy's formulas (``rel_entr``, ``entropy``, ``jensenshannon``), so the
default ``auto`` path for large windows never imports scipy.
"""

from __future__ import annotations

import numpy as np

from checks.drift.binning import binned_shares, histogram_counts, sturges_edges
from checks.drift.methods.base import BOTH, DistanceMethod
from checks.drift.profile import ColumnProfile, FloatArray, align_counts


def rel_entr(x: FloatArray, y: FloatArray) -> FloatArray:
    """``scipy.special.rel_entr``: x*log(x/y), 0 where x == 0, inf where y == 0 < x."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(x / y)
    out[x == 0] = 0.0
    out[(x > 0) & (y == 0)] = np.inf
    return out


class PSI(DistanceMethod):
    """Population stability index, ``sum((ref% - cur%) * ln(ref% / cur%))``, zeros filled."""

    name = "psi"
    display_name = "PSI"
    column_types = BOTH

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        ref, cur = binned_shares(reference, current, fill_zeroes=True)
        return float(np.sum((ref - cur) * np.log(ref / cur)))


class KLDivergence(DistanceMethod):
    """KL(ref || cur) in nats (``scipy.stats.entropy``), zeros filled."""

    name = "kl_div"
    display_name = "Kullback-Leibler divergence"
    column_types = BOTH

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        ref, cur = binned_shares(reference, current, fill_zeroes=True)
        return float(np.sum(rel_entr(ref / np.sum(ref), cur / np.sum(cur))))


class JensenShannon(DistanceMethod):
    """Jensen-Shannon distance (natural log; sqrt of the divergence), zeros kept."""

    name = "jensenshannon"
    display_name = "Jensen-Shannon distance"
    column_types = BOTH

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        p, q = binned_shares(reference, current, fill_zeroes=False)
        p, q = p / np.sum(p), q / np.sum(q)
        m = (p + q) / 2.0
        js = np.sum(rel_entr(p, m)) + np.sum(rel_entr(q, m))
        return float(np.sqrt(js / 2.0))


class Hellinger(DistanceMethod):
    """Hellinger distance; numerical columns use Sturges bins over the distinct values."""

    name = "hellinger"
    display_name = "Hellinger distance"
    column_types = BOTH

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        if reference.column_type == "categorical":
            _, ref_counts, cur_counts = align_counts(reference, current)
            ref, cur = ref_counts / reference.count, cur_counts / current.count
            overlap = float(np.sum(np.sqrt(ref * cur)))
        else:
            overlap = _numerical_overlap(reference, current)
        return float(np.sqrt(1 - np.clip(overlap, 0, 1)))


def _numerical_overlap(reference: ColumnProfile, current: ColumnProfile) -> float:
    # Evidently bins by Sturges over the *distinct* values of both windows, then compares
    # density histograms: sum(sqrt(h1 * h2)) * bin width.
    keys, _, _ = align_counts(reference, current)
    integer = reference.integer and current.integer
    edges = sturges_edges(float(keys[0]), float(keys[-1]), keys.size, integer=integer)
    widths = np.diff(edges)
    h1 = _density(histogram_counts(_sorted(reference), edges), widths)
    h2 = _density(histogram_counts(_sorted(current), edges), widths)
    bin_width = (edges.max() - edges.min()) / (len(edges) - 1)
    return float(np.sum(np.sqrt(h1 * h2)) * bin_width)


def _density(counts: np.ndarray, widths: FloatArray) -> FloatArray:
    density: FloatArray = counts / widths / counts.sum()
    return density


def _sorted(profile: ColumnProfile) -> FloatArray:
    if profile.values is None:
        raise TypeError("a numerical Hellinger distance needs numerical profiles")
    return profile.values
