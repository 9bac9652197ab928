"""What a scan fits on the reference's rows: CBPE (estimated performance) and the PCA of
multivariate drift, cached with the reference profile.

The profile cache keeps each column's sorted values, not the rows together, and both fits
need rows: CBPE the label, score and prediction of each row, the PCA every feature of each
row. So a fit is made from the reference rows once and stored as JSON beside the drift
calibrations (``drift_calibration``, keys ``fit|...``, see
:func:`monitor.scans.cache.remember_calibrations`); later scans of the same reference read it
back and never re-read the rows. A rolling reference is a new reference (fingerprint) each
window, so it is fitted every scan: from the rows it has just read, or from the period's rows
read for the fit when its summary was the live window the scan before kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from checks.drift.calibrate import live_size_bucket
from checks.estimated import BinaryCBPE, MulticlassCBPE, fit_binary, fit_multiclass
from checks.multivariate import ReconstructionModel, fit_reconstruction
from monitor.config.schema import ModelConfig
from monitor.scans.calibration import Calibrations
from monitor.scans.columns import segment_frames
from monitor.scans.store import jsonable

if TYPE_CHECKING:
    import pandas as pd

CBPE = BinaryCBPE | MulticlassCBPE
T = TypeVar("T")


@dataclass
class Fits:
    """The fits of one reference: JSON read from the cache or learnt now (in
    ``calibrations``, stored with the drift thresholds), and the rows to fit from."""

    calibrations: Calibrations
    loader: Callable[[], pd.DataFrame] | None = None
    _frame: pd.DataFrame | None = None
    _memo: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """The reference rows, read at most once per scan (and only when a fit is missing)."""
        if self._frame is None:
            if self.loader is None:
                raise RuntimeError("no reference rows to fit on")
            self._frame = self.loader()
        return self._frame

    def cbpe(self, model: ModelConfig, segment: str = "") -> CBPE:
        """CBPE fitted on the reference's rows, or on those of one ``segment`` (its own
        calibration and band: a segment's scores may mean something else than the whole's)."""
        rows = self.frame if not segment else lambda: self._segment_rows(model, segment)
        where = [] if not segment else ["segment", model.segment, segment]
        if model.task == "multiclass_classification":
            key = _key(
                "cbpe", model.target_column, model.prediction, *model.class_scores.items(), *where
            )
            return self._cached(
                key,
                lambda: _fit_multiclass(model, rows()),
                MulticlassCBPE.to_json_dict,
                MulticlassCBPE.from_json_dict,
            )
        key = _key(
            "cbpe",
            model.target_column,
            model.score,
            model.prediction,
            model.positive_label,
            model.decision_threshold,
            *where,
        )
        return self._cached(
            key,
            lambda: _fit_binary(model, rows()),
            BinaryCBPE.to_json_dict,
            BinaryCBPE.from_json_dict,
        )

    def _segment_rows(self, model: ModelConfig, segment: str) -> pd.DataFrame:
        frame = self.frame()
        found = dict(segment_frames(model, frame, limit=0, values=[segment]))
        return found.get(segment, frame.iloc[0:0])

    def reconstruction(
        self, model: ModelConfig, columns: list[str], rows: int
    ) -> ReconstructionModel:
        """The PCA with thresholds for windows of about ``rows`` rows (its size bucket, as
        the calibrated drift thresholds are learnt)."""
        size = live_size_bucket(rows)
        key = _key("pca", *columns, size)
        return self._cached(
            key,
            lambda: fit_reconstruction(self.frame(), columns, chunk_size=max(size, 2)),
            ReconstructionModel.to_json_dict,
            ReconstructionModel.from_json_dict,
        )

    def _cached(
        self,
        key: str,
        fit: Callable[[], T],
        dump: Callable[[T], dict[str, Any]],
        load: Callable[[dict[str, Any]], T],
    ) -> T:
        if key in self._memo:
            return cast("T", self._memo[key])
        stored = self.calibrations.learnt.get(key) or self.calibrations.known.get(key)
        fitted = load(stored) if stored else fit()
        if not stored:
            self.calibrations.learnt[key] = jsonable(dump(fitted))
        self._memo[key] = fitted
        return fitted


def _key(kind: str, *parts: object) -> str:
    return "|".join(["fit", kind, *map(str, parts)])


def _fit_binary(model: ModelConfig, frame: pd.DataFrame) -> BinaryCBPE:
    target, score = model.target_column, model.score
    assert target is not None and score is not None  # the config requires both
    return fit_binary(
        frame[target].to_numpy(),
        frame[score].to_numpy(dtype=np.float64, na_value=np.nan),
        predicted=predicted(model, frame),
        positive_label=model.positive_label,
        decision_threshold=model.decision_threshold,
    )


def _fit_multiclass(model: ModelConfig, frame: pd.DataFrame) -> MulticlassCBPE:
    assert model.target_column is not None and model.prediction is not None
    return fit_multiclass(
        as_text(frame[model.target_column]),
        class_scores(model, frame),
        as_text(frame[model.prediction]),
    )


def predicted(model: ModelConfig, frame: pd.DataFrame) -> np.ndarray | None:
    """A binary model's predicted class as booleans (positive = True); ``None``: from the score."""
    if model.prediction is None:
        return None
    values = frame[model.prediction]
    return np.asarray((values == model.positive_label) & values.notna(), dtype=bool)


def class_scores(model: ModelConfig, frame: pd.DataFrame) -> dict[Any, np.ndarray]:
    return {
        cls: frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        for cls, column in model.class_scores.items()
    }


def as_text(values: pd.Series) -> np.ndarray:
    """Class labels as the text that names them in ``class_scores`` (1.0 read as "1"), nulls
    kept as ``None``."""
    return np.array([_text(v) for v in values.to_numpy(dtype=object)], dtype=object)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
