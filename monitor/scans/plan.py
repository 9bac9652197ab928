"""Which window ends a scan command covers: now, ``--at``, or a ``--from``/``--to`` range."""

from __future__ import annotations

from datetime import datetime

from monitor.config.schema import ModelConfig
from monitor.errors import MonitorError
from monitor.windows import isoformat_z

# A backfill of more windows than this is almost certainly a typo in --from.
MAX_BACKFILL = 10_000


def window_ends(
    model: ModelConfig,
    *,
    now: datetime,
    at: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[datetime]:
    """``--at`` as given; a range as every scheduled end in it; else the latest scheduled end.

    A window that ends after ``now`` is refused: its rows have not all been logged yet, so
    it would raise ``row_count`` and drift alerts on a partial window.
    """
    if at is not None:
        _not_future(model, at, "--at", now)
        return [at]
    if start is not None or end is not None:
        if start is None or end is None:
            raise MonitorError("give both --from and --to")
        if start > end:
            raise MonitorError("--from must not be after --to")
        _not_future(model, end, "--to", now)
        ends = []
        for value in model.grid.between(start, end):
            ends.append(value)
            if len(ends) > MAX_BACKFILL:
                too_many = f"more than {MAX_BACKFILL} windows between --from and --to"
                raise MonitorError(f"model {model.name!r}: {too_many}")
        return ends
    return [model.grid.latest(now)]


def _not_future(model: ModelConfig, end: datetime, option: str, now: datetime) -> None:
    if end <= now:
        return
    latest, shown = isoformat_z(model.grid.latest(now)), isoformat_z(now.replace(microsecond=0))
    raise MonitorError(
        f"model {model.name!r}: {option} {isoformat_z(end)} is in the future (now {shown}): "
        f"the window is not complete yet; the latest complete window ends at {latest} "
        f"(`--at {latest}`)"
    )
