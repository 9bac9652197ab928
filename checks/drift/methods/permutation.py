"""Permutation tests: empirical MMD (numerical) and total variation distance (categorical).

Both replay Evidently's random draws: a ``numpy.random.RandomState(seed)`` permutation of the
pooled sample per iteration, the pooled sample being the reference then the current values
in sorted order. Evidently run on sorted inputs with ``np.random.seed(seed)`` therefore makes
the same draws; on other orders the p-values differ by Monte Carlo noise only.
"""

from __future__ import annotations

import numpy as np

from checks.drift.methods.base import (
    CATEGORICAL,
    NUMERICAL,
    NotApplicable,
    PValueMethod,
    UndefinedScore,
    values_of,
)
from checks.drift.profile import ColumnProfile, FloatArray, IntArray, align_counts


class EmpiricalMMD(PValueMethod):
    """Permutation p-value of the RBF-kernel maximum mean discrepancy (median-heuristic sigma).

    The kernel matrix is O(n^2) in memory and time, so windows with more than ``max_rows``
    values in total (reference + current, default 5000: a 200 MB matrix) are refused.
    """

    name = "empirical_mmd"
    display_name = "empirical_mmd"
    column_types = NUMERICAL
    default_threshold = 0.1

    def __init__(
        self, threshold: float | None = None, *, permutations: int = 100, max_rows: int = 5000
    ) -> None:
        super().__init__(threshold)
        self.permutations = permutations
        self.max_rows = max_rows

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        x, y = values_of(reference), values_of(current)
        if x.size + y.size > self.max_rows:
            raise NotApplicable(
                f"empirical_mmd is O(n^2); {x.size + y.size} rows exceed its limit of "
                f"{self.max_rows} (reference + current); sample the windows or pick another method"
            )
        if x.size < 2 or y.size < 2:
            raise UndefinedScore("empirical_mmd needs at least 2 values per window")
        kernel = _kernel_matrix(x.reshape(-1, 1), y.reshape(-1, 1))
        np.fill_diagonal(kernel, 0.0)
        groups = np.zeros((kernel.shape[0], self.permutations + 1))
        groups[: x.size, 0] = 1.0  # column 0: the observed split
        rng = np.random.RandomState(seed)
        for i in range(1, self.permutations + 1):
            groups[rng.permutation(kernel.shape[0])[: x.size], i] = 1.0
        mmd = _mmd(kernel, groups, x.size, y.size)
        return float((mmd[0] <= mmd[1:]).mean())


def _kernel_matrix(x: FloatArray, y: FloatArray) -> FloatArray:
    # Evidently's construction: sigma from the reference block, reused for the other blocks
    dxx = _sq_dist(x, x)
    sigma = float(0.5 * np.percentile(dxx.ravel(), 50, method="nearest")) ** 0.5
    if sigma == 0:
        sigma = 0.5**0.5
    gamma = 1.0 / (2.0 * sigma**2)
    kxx, kxy, kyy = (
        np.exp(-gamma * dxx),
        np.exp(-gamma * _sq_dist(x, y)),
        np.exp(-gamma * _sq_dist(y, y)),
    )
    return np.block([[kxx, kxy], [kxy.T, kyy]])


def _sq_dist(x: FloatArray, y: FloatArray) -> FloatArray:
    distances: FloatArray = (y**2).T - 2 * np.dot(x, y.T) + x**2
    return distances


def _mmd(kernel: FloatArray, in_x: FloatArray, nx: int, ny: int) -> FloatArray:
    """Unbiased MMD^2 of each split (a column of ``in_x``, 1 = x) from a kernel with a zeroed
    diagonal: one matrix product for all permutations instead of re-indexing the kernel."""
    k_x = kernel @ in_x
    k_y = kernel.sum(axis=1)[:, None] - k_x
    in_y = 1.0 - in_x
    xx, xy, yy = (in_x * k_x).sum(axis=0), (in_y * k_x).sum(axis=0), (in_y * k_y).sum(axis=0)
    mmd: FloatArray = xx / (nx * (nx - 1)) + yy / (ny * (ny - 1)) - 2.0 * xy / (nx * ny)
    return mmd


class TVD(PValueMethod):
    """Permutation p-value of the total variation distance between category shares.

    Up to ``replay_max_rows`` pooled rows, each iteration is Evidently's draw (a permutation of
    the pooled values). Above it, the reference counts of a random split are drawn directly
    from the multivariate hypergeometric distribution, which is the same null distribution in
    O(categories) per iteration instead of O(rows).
    """

    name = "TVD"
    display_name = "Total-Variation-Distance"
    column_types = CATEGORICAL
    default_threshold = 0.1

    def __init__(
        self,
        threshold: float | None = None,
        *,
        iterations: int = 1000,
        replay_max_rows: int = 200_000,
    ) -> None:
        super().__init__(threshold)
        self.iterations = iterations
        self.replay_max_rows = replay_max_rows

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        _, ref_counts, cur_counts = align_counts(reference, current)
        pooled = ref_counts + cur_counts
        n_ref = int(ref_counts.sum())
        observed = _tvd(ref_counts[None, :], cur_counts[None, :])[0]
        if pooled.sum() <= self.replay_max_rows:
            drawn = self._replay(ref_counts, cur_counts, seed)
        else:
            rng = np.random.default_rng(seed)
            drawn = rng.multivariate_hypergeometric(pooled, n_ref, size=self.iterations)
        stats = _tvd(drawn, pooled[None, :] - drawn)
        return float(np.sum(observed <= np.abs(stats)) / self.iterations)

    def _replay(self, ref_counts: IntArray, cur_counts: IntArray, seed: int) -> IntArray:
        codes = np.concatenate(
            (
                np.repeat(np.arange(ref_counts.size), ref_counts),
                np.repeat(np.arange(cur_counts.size), cur_counts),
            )
        )
        n_ref, k = int(ref_counts.sum()), ref_counts.size
        rng = np.random.RandomState(seed)
        drawn = np.empty((self.iterations, k), dtype=np.int64)
        for i in range(self.iterations):
            drawn[i] = np.bincount(codes[rng.permutation(codes.size)[:n_ref]], minlength=k)
        return drawn


def _tvd(ref_counts: IntArray, cur_counts: IntArray) -> FloatArray:
    ref = ref_counts / ref_counts.sum(axis=1, keepdims=True)
    cur = cur_counts / cur_counts.sum(axis=1, keepdims=True)
    tvd: FloatArray = 0.5 * np.sum(np.abs(ref - cur), axis=1)
    return tvd
