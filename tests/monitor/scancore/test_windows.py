from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from monitor.windows import Cron, Every, Window, format_duration, parse_duration, parse_instant


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400), ("7d", 604800), ("1w", 604800)],
)
def test_durations_parse_to_seconds_and_format_back(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "1.5h", "2 days", "-1d", "h"])
def test_malformed_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


def test_every_grid_counts_multiples_of_the_interval_since_the_epoch() -> None:
    grid = Every(timedelta(minutes=15))
    assert grid.latest(datetime(2026, 3, 1, 10, 44, 59, tzinfo=UTC)) == datetime(
        2026, 3, 1, 10, 30, tzinfo=UTC
    )
    # 7h does not divide a day: the grid still comes from 1970-01-01T00:00Z, not midnight.
    seven = Every(timedelta(hours=7)).latest(datetime(2026, 3, 1, tzinfo=UTC))
    assert (seven - datetime(1970, 1, 1, tzinfo=UTC)) % timedelta(hours=7) == timedelta(0)


def test_every_grid_lists_the_ends_inside_a_closed_range() -> None:
    grid = Every(timedelta(hours=6))
    ends = list(grid.between(datetime(2026, 3, 1, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)))
    assert [e.hour for e in ends] == [6, 12, 18, 0]


def test_cron_is_evaluated_in_utc_by_default_and_in_the_models_zone_when_set() -> None:
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
    utc_ends = list(Cron("0 6 * * *").between(start, end))
    assert utc_ends == [datetime(2026, 3, 1, 6, tzinfo=UTC), datetime(2026, 3, 2, 6, tzinfo=UTC)]
    berlin = list(Cron("0 6 * * *", "Europe/Berlin").between(start, end))
    assert berlin[0] == datetime(2026, 3, 1, 5, tzinfo=UTC)  # 06:00 CET is 05:00Z
    assert all(e.tzinfo is UTC for e in berlin)


def test_cron_latest_is_the_last_fire_at_or_before_now() -> None:
    now = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert Cron("0 * * * *").latest(now) == now
    assert Cron("30 9 * * 1").latest(now) == datetime(2026, 2, 23, 9, 30, tzinfo=UTC)


def test_label_delay_moves_the_performance_window_back() -> None:
    end = datetime(2026, 3, 10, tzinfo=UTC)
    live = Window.ending(end, timedelta(days=1))
    perf = Window.ending(end, timedelta(days=1), shift=timedelta(days=2))
    assert (live.start, live.end) == (datetime(2026, 3, 9, tzinfo=UTC), end)
    assert (perf.start, perf.end) == (
        datetime(2026, 3, 7, tzinfo=UTC),
        datetime(2026, 3, 8, tzinfo=UTC),
    )


def test_instants_without_zone_are_utc_and_with_zone_are_converted() -> None:
    assert parse_instant("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_instant("2026-03-01T12:00Z") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    plus_one = parse_instant("2026-03-01T12:00+01:00")
    assert plus_one == datetime(2026, 3, 1, 11, tzinfo=UTC)
    assert plus_one.tzinfo == UTC
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_instant("yesterday")


@pytest.mark.parametrize(
    ("weekday", "expected_day"),
    [("1", 23), ("0", 1), ("7", 1), ("mon", 23), ("1-5", 27), ("6", 28)],
)
def test_cron_weekdays_count_from_sunday_as_in_crontab(weekday: str, expected_day: int) -> None:
    # 2026-03-01 is a Sunday; the latest fire at or before Sunday 10:00.
    now = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    latest = Cron(f"30 9 * * {weekday}").latest(now)
    assert latest.day == expected_day


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_a_window_splits_into_consecutive_slices_that_cover_it_exactly(parts: int) -> None:
    window = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC))
    slices = window.split(parts)
    assert len(slices) == parts
    assert slices[0].start == window.start and slices[-1].end == window.end
    assert all(a.end == b.start for a, b in pairwise(slices))
    assert max(s.end - s.start for s in slices) - min(s.end - s.start for s in slices) <= (
        timedelta(microseconds=1)
    )


def test_a_window_shorter_than_its_slices_gives_no_empty_slice() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    slices = Window(start, start + timedelta(microseconds=2)).split(5)
    assert [s.end - s.start for s in slices] == [timedelta(microseconds=1)] * 2
