"""Turning a model's score into a probability, and the check that decides whether to.

CBPE (:mod:`checks.estimated`) reads a calibrated score as "the chance this row is positive".
A score that is not calibrated is mapped through an isotonic regression fitted on the
reference's labelled rows; one that already is stays as it is, because isotonic regression
on a calibrated score only adds steps and noise.

The decision is NannyML's (``nannyml/calibration.py``, ``needs_calibration``), kept exactly so
that our estimates equal NannyML's on the same data:

* a single class among the labels, or a ROC AUC above 0.999, needs no calibration;
* otherwise ten stratified 90/10 splits (``random_state=42``): the calibrator is fitted on each
  90 % and applied to its 10 %; the ten held-out parts are pooled, sorted by score and cut into
  ten equal-count bins, and the expected calibration error (ECE) before and after is compared.
  Calibrate when it lowers the ECE.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> p = rng.uniform(size=4000)
>>> y = rng.uniform(size=4000) < p
>>> check = check_calibration(y, p**3)
>>> check.needed, round(check.ece_before, 2), round(check.ece_after, 2)
(True, 0.26, 0.02)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int_]

#: NannyML's settings, kept so the decision is the same as its
ECE_BINS = 10
SPLITS = 10
SPLIT_SEED = 42
SEPARABLE_AUC = 0.999
TEST_SHARE = 0.1
#: equal cells of [0, 1] in :func:`locate`'s table (a power of two), and the window size from
#: which the table is worth building
LOCATE_CELLS = 1 << 16


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationCheck:
    """Whether the score gets calibrated, with the evidence (``ece_*`` is ``None`` when the
    cross-validation was not needed to decide)."""

    needed: bool
    reason: str
    ece_before: float | None = None
    ece_after: float | None = None


class Calibrator:
    """A fitted map from score to probability; the identity when calibration is not needed.

    The fit is scikit-learn's ``IsotonicRegression(increasing=True, out_of_bounds="clip")``
    (NannyML's calibrator) done in numpy (:func:`isotonic_means`): tied scores pooled into
    their mean label weighted by their count, the pooled means made non-decreasing, and only
    the breakpoints kept (its ``X_thresholds_``, ``y_thresholds_``). It is applied with
    ``np.interp``, which is what ``predict`` computes, and a cached fit stores the
    breakpoints as JSON (:meth:`to_json_dict`). Tests compare both with scikit-learn's.
    """

    def __init__(self, points: tuple[FloatArray, FloatArray] | None) -> None:
        self.points = points

    @classmethod
    def fit(cls, y_true: npt.ArrayLike, score: npt.ArrayLike) -> Calibrator:
        """Isotonic regression of the 0/1 labels on the score, clipped outside the reference."""
        x = np.asarray(score, dtype=np.float64)
        order = np.argsort(x, kind="stable")
        return cls.fit_sorted(np.asarray(y_true, dtype=np.float64)[order], x[order])

    @classmethod
    def fit_sorted(cls, y: FloatArray, x: FloatArray) -> Calibrator:
        """:meth:`fit` on rows already sorted by score (the calibration check sorts once)."""
        new = np.ones(len(x), dtype=bool)
        np.not_equal(x[1:], x[:-1], out=new[1:])
        if new.all():  # no tied scores: each row is its own group
            starts, sums, counts = None, y, np.ones(len(x))
        else:
            starts = np.flatnonzero(new)
            counts = np.diff(starts, append=len(x)).astype(np.float64)
            sums = np.add.reduceat(y, starts)
        hull, slopes = _convex_minorant(sums, counts)
        # the fit is constant on each hull segment and the slopes strictly increase, so the
        # breakpoints are each segment's first and last group (one when they are the same)
        ends = np.empty(2 * len(slopes), dtype=np.intp)
        ends[0::2], ends[1::2] = hull[:-1], hull[1:] - 1
        keep = np.ones(len(ends), dtype=bool)
        keep[1::2] = ends[1::2] != ends[0::2]
        groups, values = ends[keep], np.repeat(slopes, 2)[keep]
        return cls((x[groups] if starts is None else x[starts[groups]], values))

    @classmethod
    def identity(cls) -> Calibrator:
        return cls(None)

    @property
    def calibrates(self) -> bool:
        return self.points is not None

    def __call__(self, score: npt.ArrayLike) -> FloatArray:
        values = np.asarray(score, dtype=np.float64)
        if self.points is None:
            return values
        # np.interp holds the end values beyond the first and last breakpoint: the clip
        return np.interp(values, *self.points)

    def to_json_dict(self) -> dict[str, list[float]] | None:
        if self.points is None:
            return None
        return {"x": self.points[0].tolist(), "y": self.points[1].tolist()}

    @classmethod
    def from_json_dict(cls, data: dict[str, list[float]] | None) -> Calibrator:
        if data is None:
            return cls.identity()
        return cls(
            (np.asarray(data["x"], dtype=np.float64), np.asarray(data["y"], dtype=np.float64))
        )


def locate(breakpoints: FloatArray, score: FloatArray) -> IntArray:
    """How many breakpoints lie at or below each score in [0, 1]: ``np.searchsorted(
    breakpoints, score, side="right")``, the piece of a calibration map each score falls on.

    A binary search per score is slow on a shuffled window (88 ms on the bench's 1M scores
    and 232 breakpoints, against 18 ms for this). A large window looks its scores up in a
    table of :data:`LOCATE_CELLS` equal cells of [0, 1] instead (``score * cells`` is exact,
    a power of two), each cell holding the count of breakpoints below it, and then steps
    over the breakpoints inside its own cell (at most two, else the binary search).
    """
    if len(score) >= LOCATE_CELLS:
        cells = np.arange(LOCATE_CELLS + 1) / LOCATE_CELLS
        below = np.searchsorted(breakpoints, cells, side="left")
        inside = int(np.diff(below).max(initial=0))  # the most breakpoints in one cell
        if inside <= 2:
            located: IntArray = below[(score * LOCATE_CELLS).astype(np.intp)]
            following = np.append(breakpoints, np.inf)  # the breakpoint after those counted
            for _ in range(inside):
                located += following[located] <= score
            return located
    located = np.searchsorted(breakpoints, score, side="right")
    return located


def isotonic_means(sums: FloatArray, weights: FloatArray) -> FloatArray:
    """The non-decreasing fit of the group means ``sums / weights`` (weighted least squares:
    what PAVA, scipy's ``isotonic_regression`` and scikit-learn compute), in numpy alone so
    that estimating needs no scipy import (0.4-0.8 CPU s per process).

    The fit is the slope of the greatest convex minorant of the cumulative sum diagram
    ``(cumsum(weights), cumsum(sums))``. Its vertices are found by peeling: a point on or
    above the chord between its neighbours is not a vertex, so every such point is dropped
    at once and the test repeated (about a dozen passes on 100,000 groups, each shorter).
    With 0/1 labels and counts the diagram is integers and the test exact. Tests compare it
    with scipy's and scikit-learn's.
    """
    hull, slopes = _convex_minorant(sums, weights)
    # group j (1-based point j of the diagram) lies on the segment ending at the first vertex >= j
    means: FloatArray = np.repeat(slopes, np.diff(hull))
    return means


def _convex_minorant(sums: FloatArray, weights: FloatArray) -> tuple[IntArray, FloatArray]:
    """The vertices of the cumulative sum diagram's greatest convex minorant (indices into
    its points, 0 being the origin) and the slopes of the segments between them."""
    s, w = np.zeros(len(sums) + 1), np.zeros(len(sums) + 1)
    np.cumsum(sums, out=s[1:])
    np.cumsum(weights, out=w[1:])
    # the first pass, on neighbouring groups, compares their means: a point is on or above
    # the chord of its neighbours when the group before it has the larger or equal mean
    rising = sums[:-1] * weights[1:] < sums[1:] * weights[:-1]
    hull = np.concatenate(([0], np.flatnonzero(rising) + 1, [len(sums)]))
    while len(hull) > 2:
        hs, hw = s[hull], w[hull]
        above = (hs[1:-1] - hs[:-2]) * (hw[2:] - hw[:-2]) >= (hs[2:] - hs[:-2]) * (
            hw[1:-1] - hw[:-2]
        )
        if not above.any():
            break
        keep = np.ones(len(hull), dtype=bool)
        keep[1:-1] = ~above
        hull = hull[keep]
    slopes: FloatArray = np.diff(s[hull]) / np.diff(w[hull])
    return hull, slopes


def expected_calibration_error(y_true: FloatArray, probability: FloatArray, bins: int) -> float:
    """Mean |mean probability - share positive| over equal-count bins of the sorted rows.

    The bins are NannyML's: ``n // bins`` rows each, the last one taking the remainder, and
    fewer bins when there are fewer than ``2 * bins`` rows.
    """
    n = len(probability)
    if n <= 2 * bins:
        bins = n // 2
    if bins < 2:
        raise ValueError(f"cannot cut {n} rows into 2 calibration bins")
    order = np.argsort(probability)
    edges = np.arange(0, n + 1, n // bins)
    edges[-1] = n
    starts, widths = edges[:-1], np.diff(edges)
    means = np.add.reduceat(probability[order], starts) / widths
    shares = np.add.reduceat(y_true[order], starts) / widths
    return float((widths / n * np.abs(means - shares)).sum())


def check_calibration(
    y_true: npt.ArrayLike, score: npt.ArrayLike, *, order: IntArray | None = None
) -> CalibrationCheck:
    """Decide, on labelled reference rows (0/1 labels), whether the score needs calibrating.
    ``order`` is ``np.argsort(score, kind="stable")`` when the caller has it already."""
    labels = np.asarray(y_true, dtype=np.float64)
    values = np.asarray(score, dtype=np.float64)
    # not np.unique: without return_counts it imports numpy.ma (0.1 s) to test for a mask
    if not len(labels) or labels.min() == labels.max():
        return CalibrationCheck(needed=False, reason="a single class among the reference labels")
    if roc_auc(labels == 1, values, order=order) > SEPARABLE_AUC:
        return CalibrationCheck(
            needed=False, reason=f"the score separates the classes (ROC AUC > {SEPARABLE_AUC})"
        )
    if order is None:
        order = np.argsort(values, kind="stable")
    before, after = _held_out_ece(labels, values, order)
    if before > after:
        reason = "isotonic calibration lowers the held-out expected calibration error"
    else:
        reason = "the score is already calibrated: isotonic calibration does not lower the ECE"
    return CalibrationCheck(
        needed=before > after, reason=reason, ece_before=before, ece_after=after
    )


def _held_out_ece(labels: FloatArray, values: FloatArray, order: IntArray) -> tuple[float, float]:
    # the rows sorted once (``order``, stable): each split's training rows keep this order
    sorted_labels, sorted_values = labels[order], values[order]
    place = np.empty(len(order), dtype=np.intp)  # where each row lands in that order
    place[order] = np.arange(len(order))
    held_labels, held_raw, held_calibrated = [], [], []
    for _, test in stratified_splits(labels, SPLITS, TEST_SHARE, SPLIT_SEED):
        in_train = np.ones(len(labels), dtype=bool)  # a split trains on every row it tests not
        in_train[place[test]] = False
        calibrator = Calibrator.fit_sorted(sorted_labels[in_train], sorted_values[in_train])
        held_labels.append(labels[test])
        held_raw.append(values[test])
        held_calibrated.append(calibrator(values[test]))
    pooled = np.concatenate(held_labels)
    return (
        expected_calibration_error(pooled, np.concatenate(held_raw), ECE_BINS),
        expected_calibration_error(pooled, np.concatenate(held_calibrated), ECE_BINS),
    )


def stratified_splits(
    labels: npt.ArrayLike, splits: int, test_share: float, seed: int
) -> Iterator[tuple[IntArray, IntArray]]:
    """scikit-learn's ``StratifiedShuffleSplit(splits, test_size=test_share,
    random_state=seed).split``, the same draws from the same generator in the same order,
    so the same indices (a test checks it), with the per-class parts joined by numpy instead
    of Python lists: on 100,000 reference rows that was half of the whole fit."""
    y = np.asarray(labels)
    n_test = math.ceil(test_share * len(y))
    n_train = len(y) - n_test
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    members = [np.flatnonzero(inverse == k) for k in range(len(counts))]
    rng = np.random.RandomState(seed)
    for _ in range(splits):
        train_counts = _approximate_mode(counts, n_train, rng)
        test_counts = _approximate_mode(counts - train_counts, n_test, rng)
        train, test = [], []
        for k, indices in enumerate(members):
            shuffled = indices.take(rng.permutation(counts[k]), mode="clip")
            train.append(shuffled[: train_counts[k]])
            test.append(shuffled[train_counts[k] : train_counts[k] + test_counts[k]])
        yield rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _approximate_mode(counts: IntArray, draws: int, rng: np.random.RandomState) -> IntArray:
    """scikit-learn's ``utils.extmath._approximate_mode``: per class, its share of ``draws``
    rounded down, then the rest to the largest remainders (ties broken by ``rng``)."""
    continuous = counts / counts.sum() * draws
    floored = np.floor(continuous)
    need = int(draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        # return_counts only to keep np.unique from importing numpy.ma (0.1 s) for a mask test
        values, _ = np.unique(remainder, return_counts=True)
        for value in values[::-1]:
            (tied,) = np.where(remainder == value)
            now = min(len(tied), need)
            floored[rng.choice(tied, size=now, replace=False)] += 1
            need -= now
            if need == 0:
                break
    mode: IntArray = floored.astype(int)
    return mode


def midranks(values: FloatArray, order: IntArray | None = None) -> FloatArray:
    """Ranks from 1, ties sharing their mean rank (scipy's ``rankdata``, method "average");
    ``order``, an argsort of ``values`` the caller has already, saves sorting them again."""
    if order is None:
        _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        ends = np.cumsum(counts)
        ranks: FloatArray = (ends - (counts - 1) / 2.0)[inverse.ravel()]
        return ranks
    ranked = values[order]
    new = np.ones(len(ranked), dtype=bool)
    np.not_equal(ranked[1:], ranked[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = np.diff(starts, append=len(ranked))
    ranks = np.empty(len(ranked))
    ranks[order] = np.repeat(starts + counts - (counts - 1) / 2.0, counts)
    return ranks


def suborder(order: IntArray, rows: npt.NDArray[np.bool_]) -> IntArray:
    """The argsort of ``values[rows]`` from ``order``, the (stable) argsort of ``values``."""
    position: IntArray = (np.cumsum(rows) - 1)[order[rows[order]]]
    return position


def roc_auc(
    positive: npt.NDArray[np.bool_], score: FloatArray, *, order: IntArray | None = None
) -> float:
    """Area under the ROC curve, ties counted half (scikit-learn's ``roc_auc_score``), as
    the Mann-Whitney statistic of the positives' ranks; both classes must be present."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    top = float(midranks(score, order)[positive].sum()) - n_pos * (n_pos + 1) / 2.0
    return top / (n_pos * n_neg)
