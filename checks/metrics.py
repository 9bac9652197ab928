"""Model-health metrics computed from arrays: classification, regression and operational.

Every function returns a :class:`MetricValue`. A metric that is undefined on its input (no
labelled rows, a single class for ``roc_auc``, all-zero true values for ``mape``) has
``value=None`` and a ``reason``; it is never NaN and never raises. Invalid input (arrays of
different lengths, probabilities outside [0, 1], a non-positive window) raises
:class:`~checks.errors.ChecksError`.

Edge cases, decided once:

* Unlabelled rows (null target) and rows with a null prediction or score are left out of
  classification and regression metrics; ``labelled`` counts the rows that were used.
* ``precision`` with no predicted positive, ``recall`` with no actual positive, and ``f1`` with
  neither are undefined (scikit-learn would return 0 with a warning).
* ``roc_auc`` with a single class among the labelled rows is undefined.
* ``log_loss`` clips probabilities to ``[eps, 1 - eps]`` with the float64 machine epsilon, as
  scikit-learn does; a single class is fine.
* ``mape`` is a fraction (0.1 = 10 %), as in scikit-learn, but rows whose true value is 0 are
  left out (scikit-learn divides by 2.2e-16 there) and counted in ``details["zero_true"]``.
* ``r2`` on fewer than two rows or on constant true values is undefined (scikit-learn's
  ``force_finite`` would report 0.0 or 1.0).
* A value that overflows float64 (``mape`` with true values near 1e-308) is undefined.
* Latency percentiles use linear interpolation (numpy's default, PostgreSQL's
  ``percentile_cont``); null latencies are left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, SupportsFloat

import numpy as np
import numpy.typing as npt

from checks.errors import ChecksError

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricValue:
    """A metric's value on one window, or ``None`` with the ``reason`` it is undefined.

    ``labelled`` is the number of labelled rows the metric used (``None`` for metrics that
    need no labels); thresholds compare it with ``min_labels``.
    """

    name: str
    value: float | None
    reason: str | None = None
    labelled: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def _undefined(
    name: str, reason: str, *, labelled: int | None = None, **details: Any
) -> MetricValue:
    return MetricValue(name=name, value=None, reason=reason, labelled=labelled, details=details)


def _defined(
    name: str, value: SupportsFloat, *, labelled: int | None = None, **details: Any
) -> MetricValue:
    number = float(value)
    if not math.isfinite(number):
        # e.g. mape with true values near 0: the mean overflows float64
        return _undefined(name, "the value overflows (not finite)", labelled=labelled, **details)
    return MetricValue(name=name, value=number, labelled=labelled, details=details)


def null_mask(values: ArrayLike) -> BoolArray:
    """True where a value is missing: None, NaN, NaT or pd.NA, for any dtype."""
    array = np.asarray(values)
    missing: BoolArray
    if array.dtype.kind in "fc":
        missing = np.isnan(array)
        return missing
    if array.dtype.kind in "mM":
        missing = np.isnat(array)
        return missing
    if array.dtype.kind in "iub":
        return np.zeros(array.shape, dtype=bool)
    import pandas as pd

    return np.asarray(pd.isna(array), dtype=bool)


def equals_label(values: np.ndarray, label: Any) -> BoolArray:
    """Element-wise ``values == label``; numpy gives a scalar when the types cannot compare."""
    result = np.asarray(values == label, dtype=bool)
    return result if result.ndim else np.full(values.shape, bool(result))


def _same_length(**arrays: np.ndarray) -> int:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ChecksError(f"arrays must have the same length; got {shown}")
    return next(iter(lengths.values()), 0)


# --- classification -----------------------------------------------------------------------


def _labelled_pairs(
    y_true: ArrayLike, other: ArrayLike, positive_label: Any
) -> tuple[BoolArray, np.ndarray]:
    """Boolean "is positive" truth for labelled rows, and the matching rows of ``other``."""
    truth, rest = np.asarray(y_true), np.asarray(other)
    _same_length(y_true=truth, other=rest)
    keep = ~null_mask(truth) & ~null_mask(rest)
    return equals_label(truth[keep], positive_label), rest[keep]


def confusion_counts(
    y_true: ArrayLike, y_pred: ArrayLike, *, positive_label: Any = 1
) -> dict[str, int]:
    """True/false positives/negatives over labelled rows with a prediction."""
    truth, pred = _labelled_pairs(y_true, y_pred, positive_label)
    predicted = equals_label(pred, positive_label)
    return {
        "tp": int(np.sum(truth & predicted)),
        "fp": int(np.sum(~truth & predicted)),
        "fn": int(np.sum(truth & ~predicted)),
        "tn": int(np.sum(~truth & ~predicted)),
    }


def _ratio(
    name: str, numerator: int, denominator: int, counts: Mapping[str, int], why: str
) -> MetricValue:
    labelled = sum(counts.values())
    if labelled == 0:
        return _undefined(name, "no labelled rows", labelled=0, **counts)
    if denominator == 0:
        return _undefined(name, why, labelled=labelled, **counts)
    return _defined(name, numerator / denominator, labelled=labelled, **counts)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike, *, positive_label: Any = 1) -> MetricValue:
    return from_confusion(
        "accuracy", confusion_counts(y_true, y_pred, positive_label=positive_label)
    )


def precision(y_true: ArrayLike, y_pred: ArrayLike, *, positive_label: Any = 1) -> MetricValue:
    c = confusion_counts(y_true, y_pred, positive_label=positive_label)
    return from_confusion("precision", c)


def recall(y_true: ArrayLike, y_pred: ArrayLike, *, positive_label: Any = 1) -> MetricValue:
    return from_confusion("recall", confusion_counts(y_true, y_pred, positive_label=positive_label))


def f1(y_true: ArrayLike, y_pred: ArrayLike, *, positive_label: Any = 1) -> MetricValue:
    return from_confusion("f1", confusion_counts(y_true, y_pred, positive_label=positive_label))


CONFUSION_METRICS = ("accuracy", "precision", "recall", "f1")


def from_confusion(name: str, c: Mapping[str, int]) -> MetricValue:
    """``accuracy``, ``precision``, ``recall`` or ``f1`` from confusion counts ``tp, fp, fn, tn``
    (e.g. counted by a database), with the same undefined cases as on arrays."""
    counts = {k: int(c[k]) for k in ("tp", "fp", "fn", "tn")}
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    if name == "accuracy":
        return _ratio(name, tp + tn, tp + fp + fn + tn, counts, "no labelled rows")
    if name == "precision":
        return _ratio(name, tp, tp + fp, counts, "no predicted positives")
    if name == "recall":
        return _ratio(name, tp, tp + fn, counts, "no actual positives")
    if name == "f1":
        return _ratio(
            name, 2 * tp, 2 * tp + fp + fn, counts, "no predicted and no actual positives"
        )
    raise ChecksError(f"not a confusion metric: {name!r}; known: {', '.join(CONFUSION_METRICS)}")


def scored_pairs(
    y_true: ArrayLike, y_score: ArrayLike, positive_label: Any
) -> tuple[BoolArray, FloatArray]:
    """Labelled rows with a score: "is positive" and the score (what :func:`roc_auc_of` and
    :func:`log_loss_of` take)."""
    truth, score = _labelled_pairs(y_true, y_score, positive_label)
    return truth, np.asarray(score, dtype=np.float64)


def roc_auc(y_true: ArrayLike, y_score: ArrayLike, *, positive_label: Any = 1) -> MetricValue:
    return roc_auc_of(*scored_pairs(y_true, y_score, positive_label))


def roc_auc_of(truth: BoolArray, score: FloatArray) -> MetricValue:
    """Area under the ROC curve via the Mann-Whitney statistic (ties count half), from
    :func:`scored_pairs`.

    ``U`` counts, for each positive score, the negatives below it and half those equal to it
    (what the rank sum with average ranks for ties, ``scipy.stats.rankdata``, gives): two
    lookups of the sorted positives in the sorted negatives. Sorting the two halves costs
    less than sorting all the scores, and far less than an argsort; ``2U`` is a whole
    number, exact in integers.
    """
    n_pos, n_neg = int(truth.sum()), int((~truth).sum())
    counts = {"positives": n_pos, "negatives": n_neg}
    if n_pos == 0 or n_neg == 0:
        why = "no labelled rows" if n_pos + n_neg == 0 else "only one class among labelled rows"
        return _undefined("roc_auc", why, labelled=n_pos + n_neg, **counts)
    positives, negatives = np.sort(score[truth]), np.sort(score[~truth])
    below = np.searchsorted(negatives, positives, side="left")
    up_to = np.searchsorted(negatives, positives, side="right")
    twice_u = int(below.sum(dtype=np.int64)) + int(up_to.sum(dtype=np.int64))
    return _defined("roc_auc", twice_u / 2 / (n_pos * n_neg), labelled=n_pos + n_neg, **counts)


def log_loss(y_true: ArrayLike, y_score: ArrayLike, *, positive_label: Any = 1) -> MetricValue:
    return log_loss_of(*scored_pairs(y_true, y_score, positive_label))


def log_loss_of(truth: BoolArray, prob: FloatArray) -> MetricValue:
    """Mean log loss of the probabilities ``prob`` of labelled rows (:func:`scored_pairs`)."""
    if len(prob) == 0:
        return _undefined("log_loss", "no labelled rows", labelled=0)
    if prob.min() < 0 or prob.max() > 1:
        raise ChecksError(
            "log_loss needs probabilities in [0, 1]; "
            f"got values from {prob.min():g} to {prob.max():g}"
        )
    eps = np.finfo(np.float64).eps
    p = np.clip(prob, eps, 1 - eps)
    losses = np.where(truth, -np.log(p), -np.log1p(-p))
    return _defined("log_loss", float(losses.mean()), labelled=len(prob))


# --- regression ---------------------------------------------------------------------------


def _numeric_pairs(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[FloatArray, FloatArray]:
    truth = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    _same_length(y_true=truth, y_pred=pred)
    keep = ~np.isnan(truth) & ~np.isnan(pred)
    return truth[keep], pred[keep]


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> MetricValue:
    truth, pred = _numeric_pairs(y_true, y_pred)
    if len(truth) == 0:
        return _undefined("mae", "no labelled rows", labelled=0)
    return _defined("mae", np.mean(np.abs(truth - pred)), labelled=len(truth))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> MetricValue:
    truth, pred = _numeric_pairs(y_true, y_pred)
    if len(truth) == 0:
        return _undefined("rmse", "no labelled rows", labelled=0)
    return _defined("rmse", np.sqrt(np.mean((truth - pred) ** 2)), labelled=len(truth))


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> MetricValue:
    truth, pred = _numeric_pairs(y_true, y_pred)
    nonzero = truth != 0
    zero_true = int((~nonzero).sum())
    if len(truth) == 0:
        return _undefined("mape", "no labelled rows", labelled=0)
    if zero_true == len(truth):
        return _undefined("mape", "every true value is 0", labelled=len(truth), zero_true=zero_true)
    with np.errstate(over="ignore"):
        errors = np.abs(truth[nonzero] - pred[nonzero]) / np.abs(truth[nonzero])
        mean = errors.mean()
    return _defined("mape", mean, labelled=len(truth), zero_true=zero_true)


def r2(y_true: ArrayLike, y_pred: ArrayLike) -> MetricValue:
    truth, pred = _numeric_pairs(y_true, y_pred)
    if len(truth) < 2:
        return _undefined("r2", "fewer than 2 labelled rows", labelled=len(truth))
    total = float(np.sum((truth - truth.mean()) ** 2))
    if total == 0:
        return _undefined("r2", "true values are constant", labelled=len(truth))
    return _defined("r2", 1 - float(np.sum((truth - pred) ** 2)) / total, labelled=len(truth))


# --- operational --------------------------------------------------------------------------


def row_count(rows: int) -> MetricValue:
    """Rows in the window. Zero is a value (it fails ``min``), not missing data."""
    return _defined("row_count", rows, rows=rows)


def throughput(rows: int, window_seconds: float) -> MetricValue:
    """Rows per second over the whole window length (not over the span of timestamps)."""
    if not window_seconds > 0:
        raise ChecksError(f"throughput needs a positive window length; got {window_seconds!r} s")
    return _defined("throughput", rows / window_seconds, rows=rows, window_seconds=window_seconds)


def latency_percentile(latency: ArrayLike, q: float) -> MetricValue:
    return latency_percentiles(latency, [q])[q]


def latency_percentiles(latency: ArrayLike, qs: Sequence[float]) -> dict[float, MetricValue]:
    """``latency_p{q}`` for each of ``qs``, from one partition of the values (numpy computes
    each percentile of a list as it would alone)."""
    values = np.asarray(latency, dtype=np.float64)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return {q: _undefined(f"latency_p{q:g}", "no rows with a latency", rows=0) for q in qs}
    found = np.percentile(values, list(qs))
    return {
        q: _defined(f"latency_p{q:g}", value, rows=len(values))
        for q, value in zip(qs, found, strict=True)
    }


def missing_share(values: ArrayLike) -> MetricValue:
    missing = null_mask(values)
    if len(missing) == 0:
        return _undefined("missing_share", "no rows", rows=0)
    n_missing = int(missing.sum())
    return _defined("missing_share", n_missing / len(missing), rows=len(missing), missing=n_missing)


def label_coverage(y_true: ArrayLike) -> MetricValue:
    missing = null_mask(y_true)
    if len(missing) == 0:
        return _undefined("label_coverage", "no rows", rows=0)
    # the labelled count goes in details, not in ``labelled``: coverage itself needs no labels
    labelled = int((~missing).sum())
    return _defined(
        "label_coverage", labelled / len(missing), rows=len(missing), labelled_rows=labelled
    )
