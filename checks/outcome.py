"""The one typed outcome every check returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """Result of one check on one window.

    ``passed`` is ``None`` when the check could not be judged (not enough data): that is
    neither a pass nor a fail, and ``reason`` says why.
    """

    check: str
    method: str
    value: float | None
    threshold: float | None
    passed: bool | None
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def insufficient(self) -> bool:
        return self.passed is None

    @property
    def failed(self) -> bool:
        return self.passed is False
