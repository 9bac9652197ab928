"""The summary of a live window that :func:`monitor.scans.evaluate.evaluate` judges.

Both scan modes build it: the exact path (monitor/scans/exact.py) from the rows it read,
warehouse mode (monitor/scans/warehouse.py) from SQL aggregates. One slice per segment
("" = the whole window), as in the reference summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from checks.drift import ColumnProfile
    from checks.metrics import MetricValue

# The values of drift-checked columns: the rows (exact) or their profiles (warehouse).
Columns: TypeAlias = "pd.DataFrame | Mapping[str, ColumnProfile]"
Column: TypeAlias = "pd.Series | np.ndarray | ColumnProfile"
MetricKey: TypeAlias = tuple[str, str | None]


@dataclass(frozen=True)
class SliceSummary:
    """One slice of the live window: what each check of the slice needs.

    ``binned`` names the numerical columns summarised as counts per reference-quantile bin
    (and their bin count); ``reference`` holds the reference counted on the same bins, which
    their test compares with instead of the reference's values. ``capped``: categorical
    columns already keep at most ``max_categories`` values (counted by the database).
    ``sorted``: where the drift checks leave the numerical columns' profiles (sorted values)
    they made from the rows (:func:`~monitor.scans.evaluate.evaluate`), so that keeping this
    window as the next scan's rolling reference does not sort them again; ``None`` (they are
    not held past their check) unless the scan keeps the window.
    """

    segment: str
    rows: int
    columns: Columns
    target: Column | None
    metrics: Mapping[MetricKey, MetricValue]
    binned: Mapping[str, int] = field(default_factory=dict)
    reference: Mapping[str, ColumnProfile] = field(default_factory=dict)
    capped: bool = False
    sorted: dict[str, ColumnProfile] | None = None


@dataclass(frozen=True)
class WindowSummary:
    """The live window's slices and what the scan reports beside its checks."""

    slices: Mapping[str, SliceSummary]
    rows: dict[str, int | None]
    model_versions: tuple[str, ...]
    observed: dict[str, Any]

    @property
    def whole(self) -> SliceSummary:
        return self.slices[""]
