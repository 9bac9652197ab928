"""Durations, UTC instants and the scan grid.

Every replica must compute the same ``window_end`` for a scheduled scan, so window ends come
from a grid: ``{every: 15m}`` fires at multiples of the interval since 1970-01-01T00:00Z, and a
cron expression is evaluated in UTC (or the model's ``timezone``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
# A cron search never needs to look further back than a year for the latest fire time.
_CRON_LOOKBACKS = (timedelta(hours=2), timedelta(days=2), timedelta(days=32), timedelta(days=367))


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """``"15m"``, ``"2h"``, ``"1d"``, ``"7d"``, ``"1w"``, ``"30s"``; a bare number is seconds."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, bool) or not isinstance(text, int | float | str):
        raise ValueError("expected a duration such as 15m, 2h, 1d or 7d")
    try:
        if isinstance(text, int | float):
            return timedelta(seconds=text)
        match = _DURATION.match(text)
        if match is None:
            raise ValueError(f"expected a duration such as 15m, 2h, 1d or 7d, got {text!r}")
        return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    except OverflowError:
        raise ValueError(f"duration {text!r} is too long") from None


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration, the inverse of :func:`parse_duration`."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def to_utc(value: datetime, *, assume: str = "UTC") -> datetime:
    """An aware UTC datetime; a naive one is read in ``assume`` (an IANA zone name)."""
    if value.tzinfo is None:
        if assume == "UTC":
            return value.replace(tzinfo=UTC)
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo(assume))
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or datetime (``Z`` allowed) as aware UTC; naive means UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        expected = "expected an ISO 8601 time such as 2026-03-01T12:00Z"
        raise ValueError(f"{expected}, got {text!r}") from None
    return to_utc(value)


def isoformat_z(value: datetime) -> str:
    """``2026-03-01T12:00:00Z``: the one spelling of an instant in JSON and CLI output."""
    return to_utc(value).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open interval ``[start, end)`` of aware UTC instants."""

    start: datetime
    end: datetime

    @classmethod
    def ending(cls, end: datetime, length: timedelta, *, shift: timedelta | None = None) -> Window:
        """The window of ``length`` ending at ``end``, moved back by ``shift`` (label delay)."""
        stop = to_utc(end) - (shift or timedelta(0))
        return cls(stop - length, stop)

    def split(self, parts: int) -> list[Window]:
        """``parts`` consecutive windows covering this one exactly (to the microsecond)."""
        span = self.end - self.start
        edges = [self.start + span * i // parts for i in range(parts)] + [self.end]
        return [Window(a, b) for a, b in pairwise(edges) if a < b]


@dataclass(frozen=True, slots=True)
class Every:
    """A fixed interval on the grid of multiples of ``interval`` since the Unix epoch."""

    interval: timedelta

    def latest(self, now: datetime) -> datetime:
        steps = (to_utc(now) - EPOCH) // self.interval
        return EPOCH + steps * self.interval

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        first = self.latest(start)
        if first < to_utc(start):
            first += self.interval
        current = first
        while current <= to_utc(end):
            yield current
            current += self.interval


@dataclass(frozen=True, slots=True)
class Cron:
    """A five-field crontab expression evaluated in ``timezone``."""

    expression: str
    timezone: str = "UTC"

    def trigger(self) -> CronTrigger:
        from apscheduler.triggers.cron import CronTrigger

        fields = self.expression.split()
        if len(fields) != 5:
            raise ValueError(
                f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
            )
        minute, hour, day, month, weekday = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekday),
            timezone=self.timezone,
        )

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        trigger = self.trigger()
        fire = trigger.get_next_fire_time(None, to_utc(start))
        while fire is not None and fire <= to_utc(end):
            yield to_utc(fire)
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))

    def latest(self, now: datetime) -> datetime:
        for lookback in _CRON_LOOKBACKS:
            fires = list(self.between(to_utc(now) - lookback, now))
            if fires:
                return fires[-1]
        raise ValueError(f"cron {self.expression!r} does not fire within a year before {now}")


Schedule = Every | Cron


def next_end(grid: Schedule, now: datetime) -> datetime:
    """The first window end of ``grid`` after ``now``."""
    if isinstance(grid, Every):
        return grid.latest(now) + grid.interval
    return next(grid.between(now + timedelta(seconds=1), now + timedelta(days=367)))


def step(grid: Schedule, now: datetime) -> timedelta:
    """The gap between the window end due at ``now`` and the next one."""
    if isinstance(grid, Every):
        return grid.interval
    return next_end(grid, now) - grid.latest(now)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])\d+")


def _crontab_weekdays(field: str) -> str:
    """Crontab counts weekdays from Sunday = 0 (7 too); APScheduler 3 from Monday = 0.
    Names mean the same in both, so numbers become names (step values stay numbers)."""
    return _WEEKDAY_NUMBER.sub(lambda m: _WEEKDAYS[int(m.group()) % 7], field)


def validate_cron(expression: str, timezone: str = "UTC") -> None:
    """Raise ``ValueError`` naming the problem when the expression or zone is unusable."""
    try:
        Cron(expression, timezone).trigger()
    except (ValueError, LookupError) as exc:
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None
