"""The interface every drift method implements, river style: one small class per method."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import ClassVar, Literal

from checks.drift.profile import ColumnProfile, ColumnType, FloatArray

Kind = Literal["p_value", "distance"]
Comparison = Literal["<", "<=", ">=", ">"]

_OPS: dict[Comparison, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
    ">": operator.gt,
}


class UndefinedScore(Exception):
    """The method's statistic is undefined on these samples (Evidently returns NaN or raises)."""


class NotApplicable(Exception):
    """The method cannot be used on this column (wrong shape or too large)."""


class DriftMethod:
    """A two-sample drift test with Evidently's name, score, default threshold and direction.

    ``threshold`` is the method's default threshold; a per-column threshold is passed to
    :meth:`is_drift`. Drift is ``score <comparison> threshold``, copied per method from
    Evidently (``ks`` and ``cramer_von_mises`` drift at ``p <= threshold``, the other p-value
    tests at ``p < threshold``; distances at ``>=``, energy distance at ``>``).
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    kind: ClassVar[Kind]
    column_types: ClassVar[frozenset[ColumnType]]
    comparison: ClassVar[Comparison]
    default_threshold: ClassVar[float]
    #: the score reported when the test is undefined on identical constant samples
    no_drift_score: ClassVar[float]

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = self.default_threshold if threshold is None else threshold

    def score(self, reference: ColumnProfile, current: ColumnProfile, *, seed: int = 0) -> float:
        """The drift score of ``current`` against ``reference`` (both non-empty)."""
        raise NotImplementedError

    def is_drift(self, score: float, threshold: float | None = None) -> bool:
        return _OPS[self.comparison](score, self.threshold if threshold is None else threshold)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(threshold={self.threshold!r})"


class PValueMethod(DriftMethod):
    kind: ClassVar[Kind] = "p_value"
    comparison: ClassVar[Comparison] = "<"
    default_threshold: ClassVar[float] = 0.05
    no_drift_score: ClassVar[float] = 1.0


class DistanceMethod(DriftMethod):
    kind: ClassVar[Kind] = "distance"
    comparison: ClassVar[Comparison] = ">="
    default_threshold: ClassVar[float] = 0.1
    no_drift_score: ClassVar[float] = 0.0


NUMERICAL: frozenset[ColumnType] = frozenset({"numerical"})
CATEGORICAL: frozenset[ColumnType] = frozenset({"categorical"})
BOTH: frozenset[ColumnType] = frozenset({"numerical", "categorical"})


def values_of(profile: ColumnProfile) -> FloatArray:
    """The sorted values of a numerical profile."""
    if profile.values is None:
        raise TypeError("this method needs a numerical profile (sorted values)")
    return profile.values
