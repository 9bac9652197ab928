"""Window bounds in the representation the log's timestamp column actually stores.

SQLite has no timestamp type: logs hold ISO strings (with ``T`` or a space, with or without
fractions) or epoch numbers. Comparing a stored ``2026-03-01 00:00:00`` with a bound rendered
as ``2026-03-01 00:00:00.000000`` would drop the row at the window start, so bounds are
rendered like a sample of the stored values. Naive stored times are in the source's zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from monitor import dialect

# Epoch values above this are milliseconds (year 5138 in seconds).
_EPOCH_MS_FROM = 1e11


def bound(value: datetime, sample: Any, zone: str) -> sa.BindParameter[Any]:
    """A bind parameter comparable with stored values that look like ``sample``."""
    local = value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    if isinstance(sample, str):
        return sa.bindparam(None, _like_text(value, local, sample), type_=sa.String())
    if isinstance(sample, int | float) and not isinstance(sample, bool):
        seconds = value.timestamp()
        scale = 1000 if abs(sample) >= _EPOCH_MS_FROM else 1
        return sa.bindparam(None, seconds * scale, type_=sa.Float())
    if isinstance(sample, datetime) and sample.tzinfo is not None:
        return sa.bindparam(None, value, type_=dialect.Timestamp(timezone=True))
    return sa.bindparam(None, local, type_=dialect.Timestamp())


def _like_text(value: datetime, local: datetime, sample: str) -> str:
    """``value`` spelled like ``sample``: separator, fraction digits and zone suffix."""
    if len(sample) == 10:
        return local.strftime("%Y-%m-%d")
    suffix = _OFFSET.search(sample)
    if suffix is not None:
        # Stored with an offset: spell the bound in that same offset (logs use one).
        shown = value.astimezone(_fixed_offset(suffix.group()))
        local, tail = shown.replace(tzinfo=None), suffix.group()
    else:
        tail = ""
    sep = "T" if sample[10] == "T" else " "
    text = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    digits = len(sample[19 : len(sample) - len(tail)].lstrip(".")) if len(sample) > 19 else 0
    if digits:
        fraction = f"{local.microsecond:06d}"[:digits].ljust(digits, "0")
        return f"{text}.{fraction}{tail}"
    # Whole-second bounds stay short: a shorter string sorts before the same second with
    # a fraction, which is exactly the half-open window's rule.
    return f"{text}.{local.microsecond:06d}{tail}" if local.microsecond else f"{text}{tail}"


_OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")


def _fixed_offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def sample_statement(column: sa.ColumnElement[Any]) -> sa.Select[*tuple[Any, ...]]:
    """One stored timestamp as the driver returns it: SQLite's DATETIME type would parse the
    string and hide its format, so the column is read as text (type_coerce emits no SQL)."""
    raw = dialect.StoredTime() if isinstance(column.type, sa.DateTime) else sa.String()
    return sa.select(sa.type_coerce(column, raw)).where(column.is_not(None)).limit(1)
