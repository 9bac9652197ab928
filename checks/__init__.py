"""Statistical checks: DataFrames and arrays in, typed outcomes out. No I/O, no config."""

from __future__ import annotations

from checks.outcome import Outcome

__all__ = ["Outcome"]
