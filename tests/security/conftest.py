from __future__ import annotations

from tests.monitor.api.conftest import client, clock, fake_slack, sessions
from tests.monitor.scancore.conftest import engines_for

__all__ = ["client", "clock", "engines_for", "fake_slack", "sessions"]
