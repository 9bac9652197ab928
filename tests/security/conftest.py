from __future__ import annotations

from tests.monitor.scancore.conftest import engines_for

__all__ = ["engines_for"]
