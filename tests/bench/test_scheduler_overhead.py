"""The pure part of bench/scheduler_overhead.py: what a run's samples and scans amount to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.scheduler_overhead import RunResult, Sample, ScanRow, grid_ends, summarise

T = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def scan(model: str, end_s: float, started_s: float, took_s: float = 0.2) -> ScanRow:
    return ScanRow(model, at(end_s), at(started_s), at(started_s + took_s), "ok")


def run_of(scans: list[ScanRow]) -> RunResult:
    """Two models launched at :05, scheduler up at :07, stopped at 10:02:35."""
    return RunResult(
        models=2,
        every=MINUTE,
        launched_at=at(5),
        scheduler_at=at(7),
        stop_at=at(155),
        exited_at=at(156),
        exit_code=0,
        cpu_total_s=9.0,
        peak_rss_mb=300.0,
        samples=[
            Sample(at(s), cpu_s=2.0 + s / 100, rss_mb=200 + s / 10, threads=12)
            for s in range(6, 156)
        ],
        scans=scans,
    )


def startup_and_two_minutes() -> list[ScanRow]:
    return [
        scan("a", 0, 6.5),
        scan("b", 0, 6.6, took_s=0.4),
        scan("a", 60, 66.5),
        scan("b", 60, 66.7),
        scan("a", 120, 126.5),
        scan("b", 120, 126.9),
    ]


def test_grid_ends_are_the_interval_multiples_after_the_start_up_to_the_stop() -> None:
    assert grid_ends(at(7), at(155), MINUTE) == [at(60), at(120)]
    assert grid_ends(at(60), at(120), MINUTE) == [at(120)]


def test_lateness_is_measured_from_the_window_end_and_beyond_the_start_up_offset() -> None:
    summary = summarise(run_of(startup_and_two_minutes()))

    assert summary["windows_due"] == 4 and summary["windows_scanned"] == 4
    assert summary["windows_missed"] == 0
    assert summary["start_offset_s"] == pytest.approx(6.5)
    assert summary["late_max_s"] == pytest.approx(6.9)
    assert summary["beyond_max_s"] == pytest.approx(0.4)
    assert summary["done_late_max_s"] == pytest.approx(7.1)


def test_start_up_is_counted_until_every_model_has_stored_its_first_scan() -> None:
    summary = summarise(run_of(startup_and_two_minutes()))

    assert summary["to_first_scan_s"] == pytest.approx(1.7)
    assert summary["to_all_first_scans_s"] == pytest.approx(2.0)
    # Steady: from the sample at :07, when b stored its first scan, to the last at 10:02:35.
    assert summary["cpu_per_min_s"] == pytest.approx(0.6)
    assert summary["steady_scans"] == 4


def test_a_window_due_a_minute_before_stop_and_never_scanned_is_missed() -> None:
    scans = [s for s in startup_and_two_minutes() if (s.model, s.window_end) != ("b", at(60))]

    assert summarise(run_of(scans))["windows_missed"] == 1


def test_a_window_due_in_the_last_minute_before_stop_is_not_counted_as_missed() -> None:
    scans = [s for s in startup_and_two_minutes() if s.window_end != at(120)]

    summary = summarise(run_of(scans))

    assert summary["windows_missed"] == 0
    assert summary["windows_scanned"] == 2


def test_a_model_without_any_scan_leaves_start_up_unfinished() -> None:
    scans = [s for s in startup_and_two_minutes() if s.model == "a"]

    assert summarise(run_of(scans))["to_all_first_scans_s"] is None
