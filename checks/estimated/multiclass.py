"""CBPE for a multiclass model with one score column per class, one-vs-rest (as NannyML).

Each class's score is calibrated on its own (the same check and isotonic regression as the
binary case, on "is this class" labels), then each row's calibrated scores are divided by their
sum so they add up to 1 (uniform when all are 0). Accuracy is the mean calibrated probability of
the predicted class; precision, recall, f1 and ROC AUC are the unweighted mean over classes of
the binary estimates. A class that is never predicted counts 0 for precision and f1, as in
:mod:`checks.multiclass`.

The band: accuracy's is the binary one; for the macro averages it is the square root of the sum
of the per-class sampling errors squared, divided by the number of classes (the spread of a
mean of independent one-vs-rest estimates). NannyML widens the ROC AUC one by a further 1.2;
ours has DeLong's two terms per class instead (:func:`checks.estimated.core.auroc_spread`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from checks.estimated.calibration import (
    CalibrationCheck,
    Calibrator,
    FloatArray,
    check_calibration,
)
from checks.estimated.core import (
    BAND_WIDTH,
    ESTIMATED_METRICS,
    Estimate,
    EstimationError,
    Spread,
    chosen_metrics,
    estimate,
    estimated_value,
    needs_per_class_scores,
    null,
    spreads,
)


def _spread(terms: Iterable[Iterable[float]]) -> Spread:
    return Spread(tuple((float(a), float(b)) for a, b in terms))


def _macro_error(errors: list[float | None]) -> float | None:
    if any(e is None for e in errors):
        return None
    return float(np.sqrt(sum(e * e for e in errors if e is not None)) / len(errors))


@dataclass(frozen=True, slots=True)
class MulticlassCBPE:
    """CBPE fitted on a multiclass model's reference; :meth:`estimate` judges any window."""

    classes: tuple[Hashable, ...]
    calibrations: Mapping[Hashable, CalibrationCheck]
    calibrators: Mapping[Hashable, Calibrator]
    metrics: tuple[str, ...]
    class_spreads: Mapping[Hashable, Mapping[str, Spread]]
    accuracy_spread: Spread
    reference_rows: int

    def estimate(
        self, scores: Mapping[Hashable, npt.ArrayLike], predicted: npt.ArrayLike
    ) -> dict[str, Estimate]:
        """Estimates for one window; rows with a null score or predicted class are left out."""
        raw, labels = _matrix(scores, self.classes, predicted, "window")
        keep = ~np.isnan(raw).any(axis=1) & ~null(labels)
        raw, labels = raw[keep], labels[keep]
        p = self._probabilities(raw)
        rows = len(raw)
        how = self._how(rows)
        out = {}
        for metric in self.metrics:
            value, error = self._one(metric, p, raw, labels) if rows else (None, None)
            out[metric] = estimate(metric, value, error, rows, how)
        return out

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON (per-class parts as lists in the order of ``classes``), so a fit on a
        fixed reference can be cached and reused by later scans."""
        return {
            "classes": list(self.classes),
            "calibrations": [asdict(self.calibrations[c]) for c in self.classes],
            "calibrators": [self.calibrators[c].to_json_dict() for c in self.classes],
            "metrics": list(self.metrics),
            "class_spreads": [
                {m: [list(t) for t in s.terms] for m, s in self.class_spreads[c].items()}
                for c in self.classes
            ],
            "accuracy_spread": [list(t) for t in self.accuracy_spread.terms],
            "reference_rows": self.reference_rows,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> MulticlassCBPE:
        """The fit :meth:`to_json_dict` stored; its estimates equal the original's."""
        classes = tuple(data["classes"])
        return cls(
            classes=classes,
            calibrations={
                c: CalibrationCheck(**d) for c, d in zip(classes, data["calibrations"], strict=True)
            },
            calibrators={
                c: Calibrator.from_json_dict(d)
                for c, d in zip(classes, data["calibrators"], strict=True)
            },
            metrics=tuple(data["metrics"]),
            class_spreads={
                c: {m: _spread(terms) for m, terms in d.items()}
                for c, d in zip(classes, data["class_spreads"], strict=True)
            },
            accuracy_spread=_spread(data["accuracy_spread"]),
            reference_rows=int(data["reference_rows"]),
        )

    def _probabilities(self, raw: FloatArray) -> FloatArray:
        p = np.column_stack(
            [self.calibrators[c](raw[:, k]) for k, c in enumerate(self.classes)]
        ).reshape(raw.shape)
        total = p.sum(axis=1, keepdims=True)
        uniform = np.full_like(p, 1 / len(self.classes))
        shares: FloatArray = np.divide(p, total, out=uniform, where=total != 0)
        return shares

    def _one(
        self, metric: str, p: FloatArray, raw: FloatArray, labels: np.ndarray
    ) -> tuple[float | None, float | None]:
        rows = len(labels)
        if metric == "accuracy":
            hits = np.column_stack([labels == c for c in self.classes])
            return float((p * hits).sum(axis=1).mean()), self.accuracy_spread.error(rows)
        values, errors = [], []
        for k, c in enumerate(self.classes):
            value = estimated_value(metric, p[:, k], labels == c, raw[:, k])
            if value is None and metric == "roc_auc":
                return None, None
            values.append(0.0 if value is None else value)
            errors.append(self.class_spreads[c][metric].error(rows))
        return float(np.mean(values)), _macro_error(errors)

    def _how(self, rows: int) -> str:
        calibrated = sum(c.calibrates for c in self.calibrators.values())
        return (
            f"CBPE one-vs-rest over {len(self.classes)} classes ({calibrated} scores "
            f"isotonic-calibrated); band ± {BAND_WIDTH:g} sampling errors at {rows} rows, "
            f"from {self.reference_rows} reference rows"
        )


def _matrix(
    scores: Mapping[Hashable, npt.ArrayLike],
    classes: Iterable[Hashable],
    predicted: npt.ArrayLike,
    what: str,
) -> tuple[FloatArray, np.ndarray]:
    columns = []
    for c in classes:
        if c not in scores:
            raise EstimationError(f"{what}: no score for class {c!r}")
        columns.append(np.asarray(scores[c], dtype=np.float64))
    labels = np.asarray(predicted)
    if any(col.shape != labels.shape for col in columns) or labels.ndim != 1:
        raise EstimationError(
            f"{what}: the per-class scores and the predicted class differ in shape"
        )
    return np.column_stack(columns).reshape(len(labels), -1), labels


def fit_multiclass(
    y_true: npt.ArrayLike,
    scores: Mapping[Hashable, npt.ArrayLike] | None,
    predicted: npt.ArrayLike,
    *,
    metrics: Iterable[str] = ESTIMATED_METRICS,
) -> MulticlassCBPE:
    """Fit on the reference; ``scores`` maps each class to its score column."""
    if not scores or len(scores) < 2:
        raise needs_per_class_scores("multiclass_classification")
    classes = tuple(sorted(scores, key=lambda c: (str(type(c)), c)))
    raw, labels = _matrix(scores, classes, predicted, "reference")
    truth = np.asarray(y_true)
    keep = ~np.isnan(raw).any(axis=1) & ~null(labels) & ~null(truth)
    raw, labels, truth = raw[keep], labels[keep], truth[keep]
    unknown = sorted({str(v) for v in truth} - {str(c) for c in classes})
    if unknown:
        raise EstimationError(
            f"reference: labels {', '.join(unknown)} have no score column "
            f"(scores are given for {', '.join(map(str, classes))})"
        )
    calibrations, calibrators, class_spreads = {}, {}, {}
    for k, c in enumerate(classes):
        y, s = truth == c, raw[:, k]
        calibrations[c] = check_calibration(y, s)
        calibrators[c] = Calibrator.fit(y, s) if calibrations[c].needed else Calibrator.identity()
        class_spreads[c] = spreads(y, labels == c, s)
    return MulticlassCBPE(
        classes=classes,
        calibrations=calibrations,
        calibrators=calibrators,
        metrics=chosen_metrics(metrics),
        class_spreads=class_spreads,
        accuracy_spread=Spread.of(float(np.std(truth == labels)), 1.0),
        reference_rows=len(truth),
    )
