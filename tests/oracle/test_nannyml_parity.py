"""Our CBPE and reconstruction error against NannyML's on the same seeded data and chunks.

Tolerances, and why they are not 0:

* accuracy, precision, recall, f1: 1e-9. Same calibration decision (NannyML's splits and
  bins), same isotonic regression, same sums: only float summation order differs.
* roc_auc: 1e-6. NannyML rounds the cumulative counts to 5 decimals before the trapezoid
  and breaks score ties by sort order; we do not round and give tied scores one step. The
  data here has no ties, so only the rounding is left.
* reconstruction error and thresholds: 1e-9. Same imputation, count encoding, scaler and
  PCA (scikit-learn, same seed); we apply the PCA as a matrix product instead of
  ``transform``/``inverse_transform``.
* sampling error: accuracy, precision and recall equal NannyML's (1e-12); f1 and roc_auc are
  ours by design (see checks/estimated/core.py) and are not compared.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
nml = pytest.importorskip("nannyml")

from checks.estimated import fit_binary, fit_multiclass  # noqa: E402
from checks.multivariate import fit_reconstruction  # noqa: E402

CHUNK = 5_000
BINARY_METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"]
TOLERANCE = {"accuracy": 1e-9, "precision": 1e-9, "recall": 1e-9, "f1": 1e-9, "roc_auc": 1e-6}


def _binary(rng: np.random.Generator, n: int, shift: float, power: float) -> pd.DataFrame:
    x = rng.normal(shift, 1.0, n)
    p = 1 / (1 + np.exp(-1.5 * x))
    y = (rng.uniform(size=n) < p).astype(int)
    score = p**power  # power != 1: a score that needs calibrating
    return pd.DataFrame({"y": y, "score": score, "pred": (score >= 0.5**power).astype(int)})


def cbpe_needed(reference: pd.DataFrame) -> bool:
    from nannyml.calibration import IsotonicCalibrator, needs_calibration

    return bool(needs_calibration(reference["y"], reference["score"], IsotonicCalibrator()))


def _nannyml_cbpe(
    reference: pd.DataFrame, analysis: pd.DataFrame, chunk: int = CHUNK
) -> pd.DataFrame:
    cbpe = nml.CBPE(
        y_pred_proba="score",
        y_pred="pred",
        y_true="y",
        problem_type="classification_binary",
        metrics=BINARY_METRICS,
        chunk_size=chunk,
    )
    cbpe.fit(reference)
    return cbpe.estimate(analysis).filter(period="analysis").to_df()


@pytest.mark.parametrize("power", [1.0, 3.0], ids=["calibrated", "needs-calibration"])
def test_binary_estimates_equal_nannyml(power: float) -> None:
    rng = np.random.default_rng(2026)
    reference = _binary(rng, 20_000, 0.0, power)
    analysis = pd.concat(
        [_binary(rng, CHUNK, shift, power) for shift in (0.0, 0.5, -0.8, 1.2)], ignore_index=True
    )
    theirs = _nannyml_cbpe(reference, analysis)
    ours = fit_binary(reference["y"], reference["score"], predicted=reference["pred"] == 1)
    assert ours.calibration.needed == cbpe_needed(reference)
    if power != 1.0:
        assert ours.calibration.needed
    for i in range(len(theirs)):
        chunk = analysis.iloc[i * CHUNK : (i + 1) * CHUNK]
        est = ours.estimate(chunk["score"], predicted=chunk["pred"] == 1)
        for metric in BINARY_METRICS:
            value = theirs[(metric, "value")].iloc[i]
            assert est[metric].value == pytest.approx(value, abs=TOLERANCE[metric]), metric
        for metric in ("accuracy", "precision", "recall"):
            error = theirs[(metric, "sampling_error")].iloc[i]
            assert est[metric].sampling_error == pytest.approx(error, abs=1e-12), metric


def test_binary_estimates_on_a_large_window_equal_nannyml() -> None:
    # above checks.estimated.calibration.LOCATE_CELLS rows a window's scores are located on
    # the calibration map through a lookup table: the estimates must not move
    rng = np.random.default_rng(2027)
    reference = _binary(rng, 20_000, 0.0, 3.0)
    analysis = _binary(rng, 100_000, 0.4, 3.0)
    theirs = _nannyml_cbpe(reference, analysis, chunk=len(analysis))
    ours = fit_binary(reference["y"], reference["score"], predicted=reference["pred"] == 1)
    assert ours.calibration.needed
    est = ours.estimate(analysis["score"], predicted=analysis["pred"] == 1)
    for metric in BINARY_METRICS:
        value = theirs[(metric, "value")].iloc[0]
        assert est[metric].value == pytest.approx(value, abs=TOLERANCE[metric]), metric


def test_calibration_decision_equals_nannyml() -> None:
    from nannyml.calibration import IsotonicCalibrator, needs_calibration

    from checks.estimated import check_calibration

    rng = np.random.default_rng(7)
    for power in (0.5, 1.0, 1.3, 3.0):
        data = _binary(rng, 8_000, 0.0, power)
        theirs = needs_calibration(data["y"], data["score"], IsotonicCalibrator())
        assert check_calibration(data["y"], data["score"]).needed == theirs, power


def _multiclass(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    logits = rng.normal(size=(n, 3)) * 1.5 + np.array([shift, 0.0, -shift])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    classes = np.array(["a", "b", "c"])
    y = classes[(rng.uniform(size=(n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    sharp = np.exp(2 * logits)  # overconfident but summing to 1 (NannyML requires it)
    score = sharp / sharp.sum(axis=1, keepdims=True)
    return pd.DataFrame(
        {
            "y": y,
            "pred": classes[score.argmax(axis=1)],
            **{f"p_{c}": score[:, k] for k, c in enumerate(classes)},
        }
    )


def test_multiclass_estimates_equal_nannyml() -> None:
    rng = np.random.default_rng(99)
    reference = _multiclass(rng, 20_000, 0.0)
    analysis = pd.concat([_multiclass(rng, CHUNK, s) for s in (0.0, 0.7)], ignore_index=True)
    proba = {c: f"p_{c}" for c in "abc"}
    cbpe = nml.CBPE(
        y_pred_proba=proba,
        y_pred="pred",
        y_true="y",
        problem_type="classification_multiclass",
        metrics=BINARY_METRICS,
        chunk_size=CHUNK,
    )
    cbpe.fit(reference)
    theirs = cbpe.estimate(analysis).filter(period="analysis").to_df()
    ours = fit_multiclass(
        reference["y"], {c: reference[col] for c, col in proba.items()}, reference["pred"]
    )
    assert any(check.needed for check in ours.calibrations.values())
    for i in range(len(theirs)):
        chunk = analysis.iloc[i * CHUNK : (i + 1) * CHUNK]
        est = ours.estimate({c: chunk[col] for c, col in proba.items()}, chunk["pred"])
        for metric in BINARY_METRICS:
            value = theirs[(metric, "value")].iloc[i]
            assert est[metric].value == pytest.approx(value, abs=TOLERANCE[metric]), metric
        error = theirs[("accuracy", "sampling_error")].iloc[i]
        assert est["accuracy"].sampling_error == pytest.approx(error, abs=1e-12)


def _features(rng: np.random.Generator, n: int, rho: float) -> pd.DataFrame:
    a = rng.normal(size=n)
    b = rho * a + np.sqrt(1 - rho**2) * rng.normal(size=n)
    c = rng.exponential(size=n)
    colour = np.where(
        c + rng.normal(scale=0.5, size=n) > 1, "red", np.where(a > 0.5, "blue", "grey")
    )
    frame = pd.DataFrame({"a": a, "b": b, "c": c, "d": rng.normal(size=n), "colour": colour})
    frame.loc[rng.uniform(size=n) < 0.02, "a"] = np.nan
    frame.loc[rng.uniform(size=n) < 0.02, "colour"] = None
    return frame


def test_reconstruction_error_equals_nannyml() -> None:
    rng = np.random.default_rng(4)
    columns = ["a", "b", "c", "d", "colour"]
    reference = _features(rng, 30_000, 0.8)
    analysis = pd.concat(
        [_features(rng, CHUNK, rho) for rho in (0.8, 0.4, -0.8)], ignore_index=True
    )
    calc = nml.DataReconstructionDriftCalculator(column_names=columns, chunk_size=CHUNK)
    calc.fit(reference)
    theirs = calc.calculate(analysis).filter(period="analysis").to_df()
    ours = fit_reconstruction(reference, columns, chunk_size=CHUNK)
    assert ours.upper_threshold == pytest.approx(calc.upper_threshold_value, abs=1e-9)
    for i in range(len(theirs)):
        result = ours.evaluate(analysis.iloc[i * CHUNK : (i + 1) * CHUNK])
        assert result.value == pytest.approx(
            theirs[("reconstruction_error", "value")].iloc[i], abs=1e-9
        )
        assert result.sampling_error == pytest.approx(
            theirs[("reconstruction_error", "sampling_error")].iloc[i], abs=1e-12
        )
        assert result.drifted == bool(theirs[("reconstruction_error", "alert")].iloc[i])
