from __future__ import annotations

from tests.monitor.api.conftest import client, clock, fake_slack, sessions

__all__ = ["client", "clock", "fake_slack", "sessions"]
