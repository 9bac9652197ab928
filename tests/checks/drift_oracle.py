"""Evidently 0.7 as the oracle for the drift tests: its own stattest code, run on our inputs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class EvidentlyResult:
    method: str
    score: float
    drifted: bool
    threshold: float


def evidently_drift(
    reference: Any,
    current: Any,
    column_type: str,
    method: str | None = None,
    threshold: float | None = None,
    seed: int | None = None,
) -> EvidentlyResult:
    """One column through Evidently's ``get_one_column_drift`` steps: ±inf to NaN, drop nulls,
    pick the stattest (``method=None``: Evidently's default), run it."""
    from evidently.legacy.calculations.stattests.registry import get_stattest
    from evidently.legacy.core import ColumnType

    ref = pd.Series(reference).replace([np.inf, -np.inf], np.nan).dropna()
    cur = pd.Series(current).replace([np.inf, -np.inf], np.nan).dropna()
    kind = ColumnType.Numerical if column_type == "numerical" else ColumnType.Categorical
    stattest = get_stattest(ref, cur, kind, method)
    if seed is not None:
        np.random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stattest(ref, cur, kind, threshold)
    return EvidentlyResult(
        stattest.name, float(result.drift_score), bool(result.drifted), result.actual_threshold
    )


def evidently_preset(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """``DataDriftPreset`` end to end: per column (method display name, score, drifted) and the
    dataset share and verdict."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
    result = snapshot.dict()
    columns: dict[str, dict[str, Any]] = {}
    share = None
    for metric in result["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": config["method"],
                "threshold": config["threshold"],
                "score": metric["value"],
            }
        elif config["type"].endswith("DriftedColumnsCount"):
            share = metric["value"]["share"]
    for test in result["tests"]:
        params = test["metric_config"]["params"]
        if params["type"].endswith("ValueDrift"):
            columns[params["column"]]["drifted"] = str(test["status"].value) == "FAIL"
        elif params["type"].endswith("DriftedColumnsCount"):
            dataset_drift = str(test["status"].value) == "FAIL"
    return {"columns": columns, "share": share, "dataset_drift": dataset_drift}
