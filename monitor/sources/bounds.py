"""Window bounds in the representation the log's timestamp column actually stores.

SQLite has no timestamp type: logs hold ISO strings (with ``T`` or a space, with or without
fractions) or epoch numbers. Comparing a stored ``2026-03-01 00:00:00`` with a bound rendered
as ``2026-03-01 00:00:00.000000`` would drop the row at the window start, so bounds are
rendered like a sample of the stored values. Naive stored times are in the source's zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

# Epoch values above this are milliseconds (year 5138 in seconds).
_EPOCH_MS_FROM = 1e11


def bound(value: datetime, sample: Any, zone: str) -> sa.BindParameter[Any]:
    """A bind parameter comparable with stored values that look like ``sample``."""
    local = value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    if isinstance(sample, str):
        return sa.bindparam(None, _like_text(local, sample), type_=sa.String())
    if isinstance(sample, int | float) and not isinstance(sample, bool):
        seconds = value.timestamp()
        scale = 1000 if abs(sample) >= _EPOCH_MS_FROM else 1
        return sa.bindparam(None, seconds * scale, type_=sa.Float())
    if isinstance(sample, datetime) and sample.tzinfo is not None:
        return sa.bindparam(None, value, type_=sa.DateTime(timezone=True))
    return sa.bindparam(None, local, type_=sa.DateTime())


def _like_text(local: datetime, sample: str) -> str:
    if len(sample) == 10:
        return local.strftime("%Y-%m-%d")
    sep = "T" if len(sample) > 10 and sample[10] == "T" else " "
    text = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    # Whole-second bounds stay short: a shorter string sorts before the same second with
    # a fraction, which is exactly the half-open window's rule.
    return f"{text}.{local.microsecond:06d}" if local.microsecond else text


def sample_statement(column: sa.ColumnElement[Any]) -> sa.Select:
    """One stored timestamp as the driver returns it: SQLite's DATETIME type would parse the
    string and hide its format, so the column is read as text (type_coerce emits no SQL)."""
    return sa.select(sa.type_coerce(column, sa.String())).where(column.is_not(None)).limit(1)
