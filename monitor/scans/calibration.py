"""The calibrated drift mode of a scan (``checks.drift.mode: calibrated``, the default).

Each column's threshold is learnt on the reference at the live window's size
(checks/drift/calibrate.py) and cached with the reference profile: the key is the
reference fingerprint, the segment, the column, the statistic, exact or binned, the
false-alarm rate and the live-size bucket (``drift_calibration`` table, see
:func:`monitor.scans.cache.remember_calibrations`). Exact mode judges the values; warehouse
mode judges the counts of the reference-quantile bins the database counted, and the
threshold is learnt on the same binned statistic, which the result states.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from checks.drift import ColumnProfile, DriftOutcome, missing_share_check
from checks.drift.binned_stats import psi
from checks.drift.calibrate import Calibration, live_size_bucket
from checks.drift.calibrated import DEFAULTS, Mode, calibrate_column, judge_column, judge_dataset
from checks.drift.compare import as_profile
from checks.drift.effect import Effect
from checks.outcome import Outcome
from monitor.config.checks import DriftChecks
from monitor.scans.columns import ColumnType


@dataclass
class Calibrations:
    """The calibrations of one reference (by fingerprint): those read from the cache and
    those learnt by this scan (``learnt``, to store). A reference without a fingerprint
    (rolling) is calibrated every scan."""

    fingerprint: str | None = None
    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    learnt: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, key: str) -> Calibration | None:
        found = self.learnt.get(key) or self.known.get(key)
        return Calibration.from_json_dict(found) if found else None

    def put(self, key: str, calibration: Calibration) -> None:
        self.learnt[key] = calibration.to_json_dict()


def judge(
    cfg: DriftChecks,
    calibrations: Calibrations,
    *,
    segment: str,
    column: str,
    column_type: ColumnType,
    reference: ColumnProfile,
    current: Any,
    binned: bool,
    columns: int,
) -> DriftOutcome:
    """One column's calibrated verdict (``binned``: both profiles are warehouse bin counts) in
    a scan of ``columns`` drift-checked columns (the per-scan rate is split over them)."""
    mode: Mode = "binned" if binned else "exact"
    if binned:  # bin counts of a numerical column: the statistic runs on the counts
        reference = dataclasses.replace(reference, column_type=column_type)
        current = dataclasses.replace(current, column_type=column_type)
    cur = as_profile(current, column_type, column, "current")
    calibration = None
    if cur.count >= cfg.min_rows and reference.count > 0:
        bucket = live_size_bucket(cur.count)
        statistic = DEFAULTS[column_type]
        rate = f"{cfg.false_alarm_rate:g}/{columns}"
        key = "|".join([segment, column, statistic, mode, rate, str(bucket)])
        calibration = calibrations.get(key)
        if calibration is None:
            calibration = calibrate_column(
                reference,
                column=column,
                column_type=column_type,
                live_rows=cur.count,
                mode=mode,
                false_alarm_rate=cfg.false_alarm_rate,
                columns=columns,
                fingerprint=calibrations.fingerprint,
            )
            calibrations.put(key, calibration)
    outcome = judge_column(
        reference,
        cur,
        column=column,
        column_type=column_type,
        calibration=calibration,
        mode=mode,
        min_rows=cfg.min_rows,
    )
    details = dict(outcome.details)
    if calibration is not None:
        details["how"] = calibration.how
    return dataclasses.replace(outcome, details=details)


def binned_effect(
    column: str,
    reference_values: np.ndarray | None,
    edges: np.ndarray,
    ref: ColumnProfile,
    cur: ColumnProfile,
) -> dict[str, Any] | None:
    """A numerical column judged on bins: its mean shift in reference sd, each live value
    taken at the mean of the reference values in its bin (bins are ``[e_k, e_k+1)``)."""
    if reference_values is None or reference_values.size < 2 or cur.counts is None:
        return None
    sd = float(np.std(reference_values, ddof=1))
    counts = np.asarray(cur.counts, dtype=float)
    which = np.searchsorted(edges, reference_values, side="right")
    sums = np.bincount(which, weights=reference_values, minlength=edges.size + 1)
    sizes = np.bincount(which, minlength=edges.size + 1)
    if counts.size != sizes.size or counts.sum() == 0 or sd == 0.0:
        return None
    means = np.where(sizes > 0, sums / np.maximum(sizes, 1), 0.0)
    shift = (float((counts * means).sum() / counts.sum()) - float(reference_values.mean())) / sd
    ref_counts = np.asarray(ref.counts, dtype=float) if ref.counts is not None else sizes
    value = psi(np.asarray(ref_counts, dtype=np.int64), np.asarray(counts, dtype=np.int64))
    return Effect(column=column, psi=value, mean_shift_sd=shift).to_json_dict() | {
        "approximate": "mean from bin counts (each value at its bin's reference mean)"
    }


def missing_checks(
    cfg: DriftChecks,
    reference: Mapping[str, ColumnProfile],
    current: Mapping[str, Any],
    types: Mapping[str, ColumnType],
) -> list[Outcome]:
    """``missing_share:<column>`` as in Evidently mode (null share above the reference's)."""

    def kind(data: Any, declared: ColumnType) -> ColumnType:
        # a numerical column counted in bins (warehouse) comes as a bin-count profile
        return data.column_type if isinstance(data, ColumnProfile) else declared

    return [
        missing_share_check(
            as_profile(reference[c], kind(reference[c], t), c, "reference"),
            as_profile(current[c], kind(current[c], t), c, "current"),
            column=c,
            tolerance=cfg.missing_tolerance,
        )
        for c, t in types.items()
    ]


def dataset_outcome(columns: list[DriftOutcome], cfg: DriftChecks, *, split: int) -> Outcome:
    """Dataset drift over the feature columns; ``split``: the scan's drift checks, over which
    the false-alarm rate was split (features, prediction and target)."""
    result = judge_dataset(columns, false_alarm_rate=cfg.false_alarm_rate, split=split)
    judged = [c for c in columns if c.passed is not None]
    needed = round(result.share * len(columns)) if columns else 0
    return Outcome(
        check="dataset_drift",
        method="calibrated",
        value=result.share_drifted,
        threshold=result.share,
        passed=(not result.dataset_drift) if judged else None,
        reason=None if judged else "insufficient data",
        details={
            "drifted": [c.column for c in columns if c.drifted],
            # what changed, read first ("income: mean +0.31 sd")
            "effects": [
                c.details["effect"]["phrase"]
                for c in columns
                if c.drifted and isinstance(c.details.get("effect"), dict)
            ],
            "number_drifted": result.number_drifted,
            "columns": len(columns),
            "judged": len(judged),
            "needed": needed,
            "how": (
                f"at least {needed} of {len(judged)} judged columns drifted; each column's "
                f"threshold is set for {cfg.false_alarm_rate:g} / {split} false alarms, "
                f"so an unchanged model raises it in at most 1% of scans"
            ),
        },
    )
