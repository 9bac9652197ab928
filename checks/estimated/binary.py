"""CBPE for a binary model with one score column."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    labelled,
    null,
    roc_auc_ranked,
    spreads,
    values_from_counts,
)


@dataclass(frozen=True, slots=True)
class BinaryCBPE:
    """CBPE fitted on a binary model's reference; :meth:`estimate` judges any window."""

    calibration: CalibrationCheck
    calibrator: Calibrator
    decision_threshold: float
    metrics: tuple[str, ...]
    spreads: Mapping[str, Spread]
    reference_rows: int

    def estimate(
        self, score: npt.ArrayLike, *, predicted: npt.ArrayLike | None = None
    ) -> dict[str, Estimate]:
        """Estimates for one window; ``predicted`` (booleans, positive = True) defaults to
        ``score >= decision_threshold``. Rows with a null score are left out."""
        raw = np.asarray(score, dtype=np.float64)
        _check_window(raw, predicted)
        keep = ~np.isnan(raw)
        everything = bool(keep.all())
        raw = raw if everything else raw[keep]
        if predicted is None:
            positive = raw >= self.decision_threshold
        else:
            positive = np.asarray(predicted, dtype=bool)
            positive = positive if everything else positive[keep]
        rows = len(raw)
        how = self._how(rows)
        values = self._values(raw, positive) if rows else {}
        errors = {metric: self.spreads[metric].error(rows) for metric in self.metrics}
        return {m: estimate(m, values.get(m), errors[m], rows, how) for m in self.metrics}

    def _values(self, raw: FloatArray, positive: npt.NDArray[np.bool_]) -> dict[str, float | None]:
        """The estimates from one sort of the window's scores: the calibration is monotone, so
        the sorted scores mapped through it are the sorted probabilities (what the ROC AUC
        ranks), and ``np.interp`` on sorted input is ten times faster than on shuffled. The
        expected true positives are the predicted positives' probabilities, summed the same
        way from their own sort."""
        ranked = np.sort(raw)
        p_sorted = self.calibrator(ranked)
        tp = float(self.calibrator(np.sort(raw[positive])).sum())
        predicted_positive = float(np.count_nonzero(positive))
        fn = float(p_sorted.sum()) - tp
        counts = (tp, predicted_positive - tp, fn, len(raw) - predicted_positive - fn)
        return values_from_counts(
            self.metrics, counts, len(raw), lambda: roc_auc_ranked(ranked[::-1], p_sorted[::-1])
        )

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON, so a fit on a fixed reference can be cached and reused by later scans."""
        return {
            "calibration": asdict(self.calibration),
            "calibrator": self.calibrator.to_json_dict(),
            "decision_threshold": self.decision_threshold,
            "metrics": list(self.metrics),
            "spreads": {m: [list(t) for t in s.terms] for m, s in self.spreads.items()},
            "reference_rows": self.reference_rows,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> BinaryCBPE:
        """The fit :meth:`to_json_dict` stored; its estimates equal the original's."""
        return cls(
            calibration=CalibrationCheck(**data["calibration"]),
            calibrator=Calibrator.from_json_dict(data["calibrator"]),
            decision_threshold=float(data["decision_threshold"]),
            metrics=tuple(data["metrics"]),
            spreads={
                m: Spread(tuple((float(a), float(b)) for a, b in terms))
                for m, terms in data["spreads"].items()
            },
            reference_rows=int(data["reference_rows"]),
        )

    def _how(self, rows: int) -> str:
        calibration = "isotonic-calibrated score" if self.calibrator.calibrates else "raw score"
        return (
            f"CBPE on the {calibration} ({self.calibration.reason}); band ± {BAND_WIDTH:g} "
            f"sampling errors at {rows} rows, from {self.reference_rows} reference rows"
        )


def _check_window(raw: np.ndarray, predicted: npt.ArrayLike | None) -> None:
    if raw.ndim != 1:
        raise EstimationError("window: the score must be one column")
    if predicted is not None and np.shape(predicted) != raw.shape:
        raise EstimationError("window: score and predicted class differ in length")
    if raw.size and (np.nanmin(raw, initial=0.0) < 0 or np.nanmax(raw, initial=1.0) > 1):
        raise EstimationError("window: score outside [0, 1]")


def fit_binary(
    y_true: npt.ArrayLike,
    score: npt.ArrayLike,
    *,
    predicted: npt.ArrayLike | None = None,
    positive_label: object = 1,
    decision_threshold: float = 0.5,
    metrics: Iterable[str] = ESTIMATED_METRICS,
) -> BinaryCBPE:
    """Fit CBPE on the reference: rows whose label or score is null are left out."""
    labels, values = labelled(y_true, score, "reference")
    keep = ~np.isnan(values) & ~null(labels)
    if predicted is None:
        positive = values >= decision_threshold
    else:
        positive = np.asarray(predicted, dtype=bool)
    y, values, positive = labels[keep] == positive_label, values[keep], positive[keep]
    if len(y) < 20:
        raise EstimationError(f"reference: {len(y)} labelled rows with a score; CBPE needs 20")
    order = np.argsort(values, kind="stable")  # one sort for the check, the fit and the band
    check = check_calibration(y, values, order=order)
    if check.needed:
        calibrator = Calibrator.fit_sorted(y[order].astype(np.float64), values[order])
    else:
        calibrator = Calibrator.identity()
    return BinaryCBPE(
        calibration=check,
        calibrator=calibrator,
        decision_threshold=decision_threshold,
        metrics=chosen_metrics(metrics),
        spreads=spreads(y, positive, values, order),
        reference_rows=len(y),
    )
