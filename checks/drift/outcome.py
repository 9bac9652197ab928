"""Typed results of drift checks, per column and per dataset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.drift.methods import Kind
from checks.drift.profile import ColumnType
from checks.outcome import Outcome


@dataclass(frozen=True)
class ColumnSpec:
    """A per-column method and threshold.

    ``method=None`` keeps the dataset-wide method (and, without a threshold here, the
    dataset-wide threshold); a column's own method with ``threshold=None`` brings that method's
    default threshold, since a threshold set for one method rarely fits another.
    """

    method: str | None = None
    threshold: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftOutcome(Outcome):
    """The drift test of one column: ``check`` is ``drift:<column>``, ``value`` the score.

    ``passed`` is ``not drifted``; both are ``None`` when a window had no usable values.
    """

    column: str
    column_type: ColumnType
    kind: Kind

    @property
    def drifted(self) -> bool | None:
        return None if self.passed is None else not self.passed

    def to_json_dict(self) -> dict[str, Any]:
        """One entry of ``columns`` in the ``monitor drift --json`` output."""
        return {
            "column": self.column,
            "type": self.column_type,
            "method": self.method,
            "kind": self.kind,
            "score": self.value,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "reason": self.reason,
            "missing_share": dict(self.details.get("missing_share", {})),
        }


@dataclass(frozen=True)
class DatasetDriftOutcome:
    """Drift of every compared column and the dataset verdict.

    ``share_drifted`` is the number of drifted columns over all compared columns; a column
    with insufficient data counts as compared and not drifted. ``dataset_drift`` is
    ``share_drifted >= share`` (Evidently's rule), and false when no column was compared.
    """

    columns: tuple[DriftOutcome, ...]
    missing: tuple[Outcome, ...]
    share: float
    number_drifted: int
    share_drifted: float
    dataset_drift: bool

    def to_json_dict(self) -> dict[str, Any]:
        """The ``monitor drift --json`` document."""
        return {
            "columns": [column.to_json_dict() for column in self.columns],
            "share_drifted": self.share_drifted,
            "dataset_drift": self.dataset_drift,
        }
