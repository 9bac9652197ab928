"""When a model is scanned next, and the length of its scan step (for staleness)."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.config.schema import ModelConfig
from monitor.windows import Cron, Every


def interval(model: ModelConfig, now: datetime) -> timedelta:
    grid = model.grid
    if isinstance(grid, Every):
        return grid.interval
    return next_scan(model, now) - grid.latest(now)


def next_scan(model: ModelConfig, now: datetime) -> datetime:
    grid = model.grid
    if isinstance(grid, Every):
        return grid.latest(now) + grid.interval
    assert isinstance(grid, Cron)
    return next(grid.between(now + timedelta(seconds=1), now + timedelta(days=367)))
