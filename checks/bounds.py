"""A threshold entry's bound (``min``, ``max``, ``max_drop``, ``max_drop_relative``), checked
without numpy: config validation builds one per entry on every CLI call.
:mod:`checks.thresholds` judges metric values against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from checks.errors import ChecksError
from checks.names import metric_spec

Severity = Literal["warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("warning", "critical")  # ascending
BOUND_KINDS = ("min", "max", "max_drop", "max_drop_relative")
DROP_KINDS = ("max_drop", "max_drop_relative")
DEFAULT_MIN_LABELS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Bound:
    """One threshold entry. Several kinds may be combined; each must hold."""

    min: float | None = None
    max: float | None = None
    max_drop: float | None = None
    max_drop_relative: float | None = None
    severity: Severity = "warning"

    def __post_init__(self) -> None:
        if not self.kinds:
            raise ChecksError(f"a threshold needs at least one of {', '.join(BOUND_KINDS)}")
        if self.severity not in SEVERITIES:
            raise ChecksError(f"unknown severity {self.severity!r}; known: {', '.join(SEVERITIES)}")
        for kind in DROP_KINDS:
            limit = getattr(self, kind)
            if limit is not None and limit < 0:
                raise ChecksError(f"{kind} must not be negative; got {limit!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ChecksError(f"min {self.min!r} is above max {self.max!r}")

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind in BOUND_KINDS if getattr(self, kind) is not None)

    @property
    def needs_reference(self) -> bool:
        return any(getattr(self, kind) is not None for kind in DROP_KINDS)


def check_bound(metric: str, bound: Bound) -> None:
    """Reject a bound that can never fire on degradation (a drop bound on an error metric)."""
    info = metric_spec(metric)
    if bound.needs_reference and not info.higher_is_better:
        raise ChecksError(
            f"metric {metric!r}: lower is better, so a drop is an improvement; "
            "use max instead of max_drop / max_drop_relative"
        )
