"""Multiclass classification metrics: accuracy and macro-averaged precision, recall and f1.

Rows whose target or prediction is null are left out; ``labelled`` counts the rest. The
classes are those present in target or prediction (scikit-learn's ``unique_labels``), and
the macro average is the unweighted mean of the per-class values over them.

Decided once:

* **Empty per-class ratios count as 0**, which is what scikit-learn's default
  (``zero_division="warn"``) returns for ``average="macro"``: a class the model never
  predicts has precision 0, a class that never occurs in the target has recall 0. So a model
  that collapses onto one class fails a ``min`` bound rather than turning "undefined" (the
  binary metrics, which have a single positive class, are undefined there instead). The
  classes concerned are listed in ``details["never_predicted"]`` / ``["never_true"]``.
  f1 per class is ``2 tp / (2 tp + fp + fn)``, never 0/0 for a class that occurs.
* **Labels are compared as they are**: ``1 == 1.0`` (an integer column with nulls is read as
  floats), ``"a" == "a"``. When the labels mix text with numbers (a SQLite column can hold
  both) every label is compared as text, integral floats written without ``.0``, so ``1``,
  ``1.0`` and ``"1"`` are one class (scikit-learn raises a TypeError on such labels).
* No labelled rows: every metric is undefined ("no labelled rows"), never NaN.

Counts can come from rows (:func:`class_counts`) or from a ``GROUP BY target, prediction``
table computed by a database (:func:`class_counts_from_pairs`); both give the same values.

>>> counts = class_counts(["a", "b", "c", "a"], ["a", "b", "b", None])
>>> from_class_counts("accuracy", counts).value
0.6666666666666666
>>> round(from_class_counts("recall", counts).value, 4)
0.6667
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from checks.errors import ChecksError
from checks.metrics import (
    ArrayLike,
    MetricValue,
    _defined,
    _same_length,
    _undefined,
    null_mask,
)

MULTICLASS_METRICS = ("accuracy", "precision", "recall", "f1")
#: per-class lists in ``details`` are left out above this many classes
MAX_LISTED = 20


@dataclass(frozen=True, slots=True)
class ClassCounts:
    """Per class (sorted): correct predictions, predictions of it, and true occurrences."""

    classes: np.ndarray
    correct: np.ndarray
    predicted: np.ndarray
    actual: np.ndarray

    @property
    def labelled(self) -> int:
        return int(self.actual.sum())


def class_counts(y_true: ArrayLike, y_pred: ArrayLike) -> ClassCounts:
    """Per-class counts over the rows where both target and prediction are present."""
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    _same_length(y_true=truth, y_pred=pred)
    keep = ~null_mask(truth) & ~null_mask(pred)
    return _count(truth[keep], pred[keep], None)


def class_counts_from_pairs(pairs: Iterable[tuple[Any, Any, int]]) -> ClassCounts:
    """Per-class counts from ``(target, prediction, rows)`` triples; pairs with a null side
    are left out, as rows are."""
    rows = list(pairs)
    truth = np.empty(len(rows), dtype=object)
    pred = np.empty(len(rows), dtype=object)
    truth[:], pred[:] = [r[0] for r in rows], [r[1] for r in rows]
    weights = np.array([int(r[2]) for r in rows], dtype=np.int64)
    if (weights < 0).any():
        raise ChecksError("class pair counts must not be negative")
    keep = ~null_mask(truth) & ~null_mask(pred)
    return _count(_tidy(truth[keep]), _tidy(pred[keep]), weights[keep])


def _tidy(values: np.ndarray) -> np.ndarray:
    """Object arrays of plain numbers as numbers, so 1 and 1.0 from two columns match."""
    if values.size and all(_is_number(v) for v in values):
        return values.astype(np.float64)
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _mixed(*arrays: np.ndarray) -> bool:
    """Whether the labels mix text with other values (numbers)."""
    text = other = False
    for array in arrays:
        if array.dtype.kind in "US":
            text = text or array.size > 0
        elif array.dtype.kind == "O":
            is_text = np.fromiter((isinstance(v, str | bytes) for v in array), bool, array.size)
            text, other = text or bool(is_text.any()), other or not bool(is_text.all())
        else:
            other = other or array.size > 0
    return text and other


def _as_text(values: np.ndarray) -> np.ndarray:
    def text(value: Any) -> str:
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return str(int(value))
        return str(value)

    return np.array([text(v) for v in values], dtype=object)


def _count(truth: np.ndarray, pred: np.ndarray, weights: np.ndarray | None) -> ClassCounts:
    if _mixed(truth, pred):
        truth, pred = _as_text(truth), _as_text(pred)
    both = np.concatenate([truth, pred]) if truth.size else np.array([], dtype=np.int64)
    classes, codes = np.unique(both, return_inverse=True)
    t, p = codes[: truth.size], codes[truth.size :]
    w = np.ones(truth.size, dtype=np.int64) if weights is None else weights
    k = classes.size

    def tally(index: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        chosen = w if where is None else w * where
        return np.bincount(index, weights=chosen, minlength=k).astype(np.int64)

    return ClassCounts(classes, tally(t, t == p), tally(p), tally(t))


def _listed(classes: np.ndarray, mask: np.ndarray) -> list[str] | int:
    chosen = classes[mask]
    return [str(c) for c in chosen] if chosen.size <= MAX_LISTED else int(chosen.size)


def from_class_counts(name: str, counts: ClassCounts) -> MetricValue:
    """``accuracy`` or the macro ``precision``, ``recall`` or ``f1`` of the counts."""
    if name not in MULTICLASS_METRICS:
        known = ", ".join(MULTICLASS_METRICS)
        raise ChecksError(f"not a multiclass metric: {name!r}; known: {known}")
    n = counts.labelled
    details: dict[str, Any] = {"classes": int(counts.classes.size), "average": "macro"}
    if n == 0:
        return _undefined(name, "no labelled rows", labelled=0, **details)
    tp, predicted, actual = counts.correct, counts.predicted, counts.actual
    if name == "accuracy":
        return _defined(name, tp.sum() / n, labelled=n, classes=details["classes"])
    if name == "precision":
        details["never_predicted"] = _listed(counts.classes, predicted == 0)
        per_class = _share(tp, predicted)
    elif name == "recall":
        details["never_true"] = _listed(counts.classes, actual == 0)
        per_class = _share(tp, actual)
    else:
        per_class = _share(2 * tp, predicted + actual)
    return _defined(name, per_class.mean(), labelled=n, **details)


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` per class, 0 where the denominator is 0 (see module doc)."""
    out = np.zeros(numerator.size, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def multiclass_metric(name: str, y_true: ArrayLike, y_pred: ArrayLike) -> MetricValue:
    return from_class_counts(name, class_counts(y_true, y_pred))
