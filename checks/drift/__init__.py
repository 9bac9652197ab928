"""Drift tests with Evidently's names, scores, thresholds and default choice, on column profiles.

>>> import numpy as np
>>> from checks.drift import compare_column
>>> rng = np.random.default_rng(0)
>>> outcome = compare_column(rng.normal(0, 1, 500), rng.normal(1, 1, 500),
...                          column="age", column_type="numerical")
>>> outcome.method, outcome.drifted
('ks', True)
"""

from __future__ import annotations

from checks.drift.categories import OTHER
from checks.drift.compare import compare_column, missing_share_check
from checks.drift.correction import adjust_p_values
from checks.drift.dataset import compare_dataset, profile_dataset
from checks.drift.methods import METHODS, DriftMethod, get_method
from checks.drift.outcome import ColumnSpec, DatasetDriftOutcome, DriftOutcome
from checks.drift.profile import ColumnProfile, ColumnType, profile_column
from checks.drift.select import default_method, infer_column_types

__all__ = [
    "METHODS",
    "OTHER",
    "ColumnProfile",
    "ColumnSpec",
    "ColumnType",
    "DatasetDriftOutcome",
    "DriftMethod",
    "DriftOutcome",
    "adjust_p_values",
    "compare_column",
    "compare_dataset",
    "default_method",
    "get_method",
    "infer_column_types",
    "missing_share_check",
    "profile_column",
    "profile_dataset",
]
