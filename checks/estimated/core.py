"""What binary and multiclass CBPE share: the estimate, the expected counts, the band."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from checks.errors import ChecksError
from checks.estimated.calibration import FloatArray, IntArray, midranks, suborder

ESTIMATED_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
#: sampling errors either side of the estimate (NannyML's ``SAMPLING_ERROR_RANGE``)
BAND_WIDTH = 3.0
BoolArray = npt.NDArray[np.bool_]


class EstimationError(ChecksError):
    """Inputs CBPE cannot work from; the message says which and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """One estimated metric on one window (``value`` is ``None``, with a ``reason``, when
    undefined)."""

    metric: str
    value: float | None
    lower: float | None
    upper: float | None
    sampling_error: float | None
    rows: int
    how: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Spread:
    """Sampling-error components learnt on the reference: per term, a per-row standard
    deviation and the share of a window's rows it applies to. The error at ``rows`` rows is
    ``sqrt(sum(std² / (rows × share)))``."""

    terms: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, std: float, share: float) -> Spread:
        return cls(((std, share),))

    def error(self, rows: int) -> float | None:
        if rows == 0 or any(share <= 0 or not np.isfinite(std) for std, share in self.terms):
            return None
        return float(np.sqrt(sum(std * std / (rows * share) for std, share in self.terms)))


def expected_counts(p: FloatArray, predicted: BoolArray) -> tuple[float, float, float, float]:
    """Expected TP, FP, FN, TN of a window whose positive probabilities are ``p``."""
    tp = float(p[predicted].sum())
    predicted_positive = float(np.count_nonzero(predicted))
    fn = float(p.sum()) - tp
    return tp, predicted_positive - tp, fn, len(p) - predicted_positive - fn


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom > 0 else None


def estimated_values(
    metrics: Iterable[str],
    p: FloatArray,
    predicted: BoolArray,
    raw: FloatArray,
    *,
    monotone: bool = False,
) -> dict[str, float | None]:
    """Each metric's estimate from calibrated ``p``, predicted classes and raw scores;
    ``monotone`` when ``p`` never decreases as ``raw`` grows (one calibrated score)."""
    return values_from_counts(
        metrics,
        expected_counts(p, predicted),
        len(p),
        lambda: _estimated_roc_auc(p, raw, monotone=monotone),
    )


def values_from_counts(
    metrics: Iterable[str],
    counts: tuple[float, float, float, float],
    rows: int,
    roc_auc: Callable[[], float | None],
) -> dict[str, float | None]:
    """Each metric from the expected TP, FP, FN, TN of ``rows`` rows; ``roc_auc`` is asked
    only when that metric is."""
    tp, fp, fn, tn = counts
    formulas = {
        "accuracy": lambda: _ratio(tp + tn, rows),
        "precision": lambda: _ratio(tp, tp + fp),
        "recall": lambda: _ratio(tp, tp + fn),
        "f1": lambda: _ratio(tp, tp + 0.5 * (fp + fn)),
        "roc_auc": roc_auc,
    }
    return {metric: formulas[metric]() for metric in metrics}


def estimated_value(
    metric: str, p: FloatArray, predicted: BoolArray, raw: FloatArray
) -> float | None:
    return estimated_values([metric], p, predicted, raw)[metric]


def _estimated_roc_auc(p: FloatArray, raw: FloatArray, *, monotone: bool) -> float | None:
    """Trapezoidal area of the expected ROC curve, rows ranked by raw score (descending).

    When ``p`` is a non-decreasing function of ``raw`` (a binary model's calibration),
    sorting each on its own lines them up, which is cheaper than an argsort and two gathers
    (tied raw scores share one ``p``).
    """
    if monotone:
        ranked, p_sorted = np.sort(raw)[::-1], np.sort(p)[::-1]
    else:
        order = np.argsort(raw)[::-1]  # any order within ties: a tie is one step below
        ranked, p_sorted = raw[order], p[order]
        del order
    return roc_auc_ranked(ranked, p_sorted)


def roc_auc_ranked(ranked: FloatArray, p_sorted: FloatArray) -> float | None:
    """The expected ROC AUC of rows ranked by raw score, descending (``ranked``), with their
    calibrated probabilities in the same order. Rows with the same raw score form one step,
    as in scikit-learn's ``roc_curve``, so ties give the diagonal between them whatever their
    order."""
    step_ends = np.ones(len(ranked), dtype=bool)
    np.not_equal(ranked[1:], ranked[:-1], out=step_ends[:-1])
    tps = np.zeros(len(ranked) + 1)
    np.cumsum(p_sorted, out=tps[1:])
    fps = np.arange(len(tps), dtype=np.float64)
    if not step_ends.all():  # ties: one point per step, at its last row
        last_of_tie = np.flatnonzero(step_ends)
        tps = np.concatenate(([0.0], tps[1:][last_of_tie]))
        fps = np.concatenate(([0.0], last_of_tie + 1.0))
    return _area(tps, fps)


def roc_auc_steps(positives: FloatArray, rows: FloatArray) -> float | None:
    """The expected ROC AUC from steps of rows in descending score order: per step, the sum
    of its rows' probabilities and its row count. Rows that share a probability may share a
    step, whatever their order among themselves: the curve runs straight across them, so
    the area is the same as with one step per row."""
    tps = np.zeros(len(positives) + 1)
    np.cumsum(positives, out=tps[1:])
    fps = np.zeros(len(rows) + 1)
    np.cumsum(rows, out=fps[1:])
    return _area(tps, fps)


def _area(tps: FloatArray, rows: FloatArray) -> float | None:
    """Trapezoidal area under the curve through (false, true) positives, both cumulative
    from 0; ``rows`` are the cumulative rows, so the false positives are ``rows - tps``."""
    fps = np.subtract(rows, tps, out=rows)
    if tps[-1] <= 0 or fps[-1] <= 0:
        return None
    tps /= tps[-1]
    fps /= fps[-1]
    # np.trapezoid's formula, (diff(x) * (y[1:] + y[:-1]) / 2).sum(), without its temporaries
    area = np.subtract(fps[1:], fps[:-1])
    area *= np.add(tps[1:], tps[:-1])
    area /= 2.0
    return float(area.sum())


def auroc_spread(y: BoolArray, score: FloatArray, order: IntArray | None = None) -> Spread:
    """DeLong's structural components of the ROC AUC on the reference.

    Per positive, the share of negatives it outranks; per negative, the share of positives
    that outrank it (ties count half). The AUC's variance is the variance of each divided by
    its count. NannyML keeps only the first term, which left its band about a fifth too
    narrow on our tests; the second one restores the spread seen across reference chunks.
    """
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return Spread.of(float("nan"), 0.0)
    ranks = midranks(score, order)
    positive_order = None if order is None else suborder(order, y)
    negative_order = None if order is None else suborder(order, ~y)
    over_negatives = (ranks[y] - midranks(score[y], positive_order)) / negatives
    under_positives = 1 - (ranks[~y] - midranks(score[~y], negative_order)) / positives
    share = positives / len(y)
    return Spread(
        ((float(np.std(over_negatives)), share), (float(np.std(under_positives)), 1 - share))
    )


def _ratio_spread(top: np.ndarray, bottom: np.ndarray) -> Spread:
    """A ratio of two row sums, linearised: the spread of ``top - value × bottom`` per row."""
    total = bottom.sum()
    if total <= 0:
        return Spread.of(float("nan"), 0.0)
    value = top.sum() / total
    return Spread.of(float(np.std(top - value * bottom) / bottom.mean()), 1.0)


def spreads(
    y: BoolArray, predicted: BoolArray, score: FloatArray, order: IntArray | None = None
) -> dict[str, Spread]:
    """Sampling-error components of each metric from the labelled reference rows.

    Accuracy, precision and recall are NannyML's (the standard error of a share among the
    rows the metric counts). For f1 the ratio ``2 tp / (2 tp + fp + fn)`` is linearised:
    NannyML's formula overstated the spread by about half on our tests. ``order`` is the
    score's stable argsort when the caller has it.
    """
    tp, fp, fn = y & predicted, ~y & predicted, y & ~predicted
    return {
        "accuracy": Spread.of(float(np.std(y == predicted)), 1.0),
        "precision": Spread.of(std_or_nan(y[predicted]), float(predicted.mean())),
        "recall": Spread.of(std_or_nan(predicted[y]), float(y.mean())),
        "f1": _ratio_spread(2.0 * tp, 2.0 * tp + fp + fn),
        "roc_auc": auroc_spread(y, score, order),
    }


def std_or_nan(values: BoolArray) -> float:
    return float(np.std(values)) if len(values) else float("nan")


def estimate(
    metric: str, value: float | None, error: float | None, rows: int, how: str
) -> Estimate:
    if value is None:
        reason = "no rows" if rows == 0 else f"{metric} is undefined on the expected counts"
        return Estimate(
            metric=metric, value=None, lower=None, upper=None, sampling_error=None,
            rows=rows, how=how, reason=reason,
        )  # fmt: skip
    lower = upper = None
    if error is not None:
        lower = max(0.0, value - BAND_WIDTH * error)
        upper = min(1.0, value + BAND_WIDTH * error)
    return Estimate(
        metric=metric, value=value, lower=lower, upper=upper, sampling_error=error,
        rows=rows, how=how,
    )  # fmt: skip


def chosen_metrics(metrics: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(metrics)
    unknown = sorted(set(chosen) - set(ESTIMATED_METRICS))
    if unknown:
        raise EstimationError(
            f"cannot estimate {', '.join(unknown)}; estimable: {', '.join(ESTIMATED_METRICS)}"
        )
    return chosen


def labelled(
    y_true: npt.ArrayLike, score: npt.ArrayLike, what: str
) -> tuple[BoolArray, FloatArray]:
    labels = np.asarray(y_true)
    values = np.asarray(score, dtype=np.float64)
    if labels.shape != values.shape or labels.ndim != 1:
        raise EstimationError(f"{what}: labels and score differ in shape")
    if values.size and (np.nanmin(values) < 0 or np.nanmax(values) > 1):
        raise EstimationError(f"{what}: score outside [0, 1]")
    return labels, values


def null(values: np.ndarray) -> BoolArray:
    if values.dtype.kind == "f":
        missing: BoolArray = np.isnan(values)
        return missing
    if values.dtype.kind == "O":
        return np.array([v is None or v != v for v in values], dtype=bool)
    return np.zeros(len(values), dtype=bool)


def needs_per_class_scores(task: str) -> EstimationError:
    """The error for a multiclass model configured with one score (or none)."""
    return EstimationError(
        f"estimated performance for {task} needs one score column per class: CBPE reads each "
        "score as the probability of that class, and a single score (or the predicted class "
        "alone) cannot say how likely each prediction is to be right"
    )
