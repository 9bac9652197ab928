"""Performance estimated before the labels arrive: confidence-based performance estimation.

CBPE (NannyML's method, ``nannyml/performance_estimation/confidence_based``): once the score is
a calibrated probability ``p`` that a row is positive (:mod:`checks.estimated.calibration`),
each row's contribution to the confusion matrix is expected, not observed. A predicted
positive is a true positive with probability ``p`` and a false positive with ``1 - p``; a
predicted negative is a false negative with ``p`` and a true negative with ``1 - p``. Summed
over a window they give the expected confusion matrix, and accuracy, precision, recall and f1
follow from it. ROC AUC is the area under the curve traced by ranking rows by their raw score
and counting ``p`` as the positives found so far.

What it cannot see: the estimate reads only the scores. A change in how inputs relate to the
label (concept drift) leaves the scores, and so the estimate, unchanged while the realised
performance falls. It holds under covariate shift, where the calibration learnt on the reference
stays true. The realised value is the truth whenever the labels exist.

The band is NannyML's sampling-error approach: per metric, a standard deviation learnt on the
reference's labelled rows, divided by the square root of the rows the live window gives the
metric (NannyML's formulas for accuracy, precision and recall; f1 linearised and ROC AUC with
both DeLong terms, see :func:`checks.estimated.core.spreads`). It is the spread the realised
metric shows across reference chunks of the live window's size (tests check that), and
``lower``/``upper`` are ``value ± 3`` of it, clipped to [0, 1].

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> p = rng.uniform(size=20_000)
>>> y = rng.uniform(size=20_000) < p
>>> fitted = fit_binary(y[:10_000], p[:10_000])
>>> est = fitted.estimate(p[10_000:])
>>> round(est["accuracy"].value, 2), est["accuracy"].lower < est["accuracy"].value
(0.75, True)
"""

from __future__ import annotations

from checks.estimated.binary import BinaryCBPE, fit_binary
from checks.estimated.calibration import CalibrationCheck, Calibrator, check_calibration
from checks.estimated.core import (
    BAND_WIDTH,
    ESTIMATED_METRICS,
    Estimate,
    EstimationError,
    needs_per_class_scores,
)
from checks.estimated.multiclass import MulticlassCBPE, fit_multiclass

__all__ = [
    "BAND_WIDTH",
    "ESTIMATED_METRICS",
    "BinaryCBPE",
    "CalibrationCheck",
    "Calibrator",
    "Estimate",
    "EstimationError",
    "MulticlassCBPE",
    "check_calibration",
    "fit_binary",
    "fit_multiclass",
    "needs_per_class_scores",
]
