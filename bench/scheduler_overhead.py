"""`monitor run --no-api` as a real process: what the long-running service costs per model.

Used by bench/scan_overhead.py (``--part run``), which writes the config and migrates the
state DB. Here: start the process a few seconds after a minute boundary, read its /proc
entries every second (CPU = utime + stime of the whole thread group, RSS), stop it with
SIGTERM after a fixed time, take its final rusage from ``wait4``, and read every stored scan
from the SQLite state DB. :func:`summarise` turns that into the figures of the table; it is
pure, so tests run it on made-up samples and scans.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Start this many seconds after a minute boundary, so every run sees the same schedule:
# the start-up scans, then one scheduled window per minute, the last one 35 s before the
# stop of a 150 s run.
START_OFFSET_S = 5
STEADY_TAIL_S = 60  # "steady" RSS: the median of the samples in the last minute before stop


@dataclass(frozen=True)
class Sample:
    at: datetime
    cpu_s: float
    rss_mb: float
    threads: int


@dataclass(frozen=True)
class ScanRow:
    model: str
    window_end: datetime
    started_at: datetime
    finished_at: datetime
    status: str


@dataclass
class RunResult:
    """What one ``monitor run`` process did, as measured from outside."""

    models: int
    every: timedelta
    launched_at: datetime
    stop_at: datetime
    exited_at: datetime
    exit_code: int
    cpu_total_s: float
    peak_rss_mb: float
    scheduler_at: datetime | None = None
    samples: list[Sample] = field(default_factory=list)
    scans: list[ScanRow] = field(default_factory=list)
    log_errors: dict[str, int] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)


def read_sample(pid: int) -> Sample | None:
    """CPU and RSS of process ``pid`` (all its threads) from /proc; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 of proc(5), state
    ticks = os.sysconf("SC_CLK_TCK")
    return Sample(
        at=datetime.now(UTC),
        cpu_s=(int(fields[11]) + int(fields[12])) / ticks,  # utime + stime, whole process
        rss_mb=int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20,
        threads=int(fields[17]),
    )


def wait_for_offset(offset_s: float = START_OFFSET_S) -> None:
    """Sleep until ``offset_s`` seconds past the next (or the current) minute boundary."""
    now = time.time()
    target = now - now % 60 + offset_s
    time.sleep(target - now if target > now else target + 60 - now)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_run(
    config: Path, state_db: Path, *, models: int, seconds: float, every: timedelta, cwd: Path
) -> RunResult:
    """Run ``monitor run --no-api -c config`` for ``seconds``, then SIGTERM it; measured."""
    wait_for_offset()
    load_before = os.getloadavg()[0]
    cmd = [sys.executable, "-m", "monitor", "run", "--no-api", "-c", str(config)]
    cmd += ["--port", str(free_port())]
    log_path = state_db.with_suffix(".log")
    with log_path.open("w") as log, open(os.devnull, "w") as devnull:
        launched_at = datetime.now(UTC)
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=devnull, stderr=log)
        samples = _sample_until(proc.pid, time.monotonic() + seconds)
        stop_at = datetime.now(UTC)
        proc.send_signal(signal.SIGTERM)
        samples += _sample_until(proc.pid, time.monotonic() + 60)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        exited_at = datetime.now(UTC)
    scheduler_at, errors = read_log(log_path)
    return RunResult(
        models=models,
        every=every,
        launched_at=launched_at,
        stop_at=stop_at,
        exited_at=exited_at,
        exit_code=proc.returncode,
        cpu_total_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        scheduler_at=scheduler_at,
        samples=[s for s in samples if s is not None],
        scans=read_scans(state_db),
        log_errors=errors,
        load=(load_before, os.getloadavg()[0]),
    )


def _sample_until(pid: int, deadline: float) -> list[Sample]:
    """One sample a second until ``deadline``, or until the process exits (seen within 50 ms)."""
    samples: list[Sample] = []
    next_at = time.monotonic()
    while time.monotonic() < deadline and not _exited(pid):
        if time.monotonic() >= next_at:
            sample = read_sample(pid)
            if sample is not None:
                samples.append(sample)
            next_at += 1.0
        time.sleep(0.05)
    return samples


def _exited(pid: int) -> bool:
    """True for a zombie (exited, not yet reaped): /proc still lists it, with no threads."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def read_log(path: Path) -> tuple[datetime | None, dict[str, int]]:
    """The time of the ``started`` line, and how often each error/warning message appeared."""
    started: datetime | None = None
    errors: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            errors["(not JSON) " + line[:80]] += 1
            continue
        if record.get("message") == "started" and started is None:
            started = datetime.fromisoformat(record["time"])
        if record.get("level") in ("error", "warning", "critical"):
            detail = f" ({record['error']})" if record.get("error") else ""
            errors[f"{record['level']}: {record.get('message')}{detail}"] += 1
    return started, dict(errors)


def read_scans(state_db: Path) -> list[ScanRow]:
    """Every scan row of the SQLite state DB (times are stored as naive UTC)."""
    query = "SELECT model, window_end, started_at, finished_at, status FROM scan"
    with sqlite3.connect(state_db) as conn:
        rows = conn.execute(query).fetchall()

    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    return [ScanRow(m, utc(w), utc(s), utc(f), status) for m, w, s, f, status in rows]


def grid_ends(after: datetime, until: datetime, every: timedelta) -> list[datetime]:
    """Grid window ends (multiples of ``every`` since the epoch) in ``(after, until]``."""
    step = every.total_seconds()
    first = (int((after - EPOCH).total_seconds() // step) + 1) * step
    ends = []
    at = EPOCH + timedelta(seconds=first)
    while at <= until:
        ends.append(at)
        at += every
    return ends


def summarise(result: RunResult) -> dict[str, Any]:
    """The figures of one run: start-up, scans, lateness, CPU and RSS (see the table)."""
    t0, stop = result.launched_at, result.stop_at
    scheduled_after = result.scheduler_at or t0
    first_done: dict[str, datetime] = {}
    for scan in result.scans:
        first_done[scan.model] = min(first_done.get(scan.model, scan.finished_at), scan.finished_at)
    all_first = max(first_done.values()) if len(first_done) == result.models else None
    due = grid_ends(scheduled_after, stop, result.every)
    scheduled = [s for s in result.scans if s.window_end > scheduled_after]
    late = sorted((s.started_at - s.window_end).total_seconds() for s in scheduled)
    offset = start_offset(result.scans, scheduled_after)
    beyond = sorted(x - offset for x in late) if offset is not None else []
    done_late = [(s.finished_at - s.window_end).total_seconds() for s in scheduled]
    ready = all_first or stop
    steady = [s for s in result.samples if ready <= s.at <= stop]
    steady_min = (steady[-1].at - steady[0].at).total_seconds() / 60 if len(steady) > 1 else 0.0
    steady_cpu = steady[-1].cpu_s - steady[0].cpu_s if len(steady) > 1 else float("nan")
    steady_scans = sum(1 for s in result.scans if steady and steady[0].at <= s.started_at <= stop)
    tail = [s.rss_mb for s in steady if (stop - s.at).total_seconds() <= STEADY_TAIL_S]
    return {
        "models": result.models,
        "run_s": (stop - t0).total_seconds(),
        "to_scheduler_s": _seconds(result.scheduler_at, t0),
        "to_first_scan_s": _seconds(min(first_done.values(), default=None), t0),
        "to_all_first_scans_s": _seconds(all_first, t0),
        "scans": len(result.scans),
        "statuses": dict(Counter(s.status for s in result.scans)),
        "windows_due": len(due) * result.models,
        "windows_scanned": len({(s.model, s.window_end) for s in scheduled}),
        "windows_missed": _missed(result, due, scheduled),
        "late_median_s": statistics.median(late) if late else None,
        "late_p95_s": _quantile(late, 0.95),
        "late_max_s": max(late, default=None),
        "done_late_max_s": max(done_late, default=None),
        "start_offset_s": offset,
        "beyond_median_s": statistics.median(beyond) if beyond else None,
        "beyond_max_s": max(beyond, default=None),
        "cpu_total_s": result.cpu_total_s,
        "cpu_per_min_s": steady_cpu / steady_min if steady_min else None,
        "cpu_per_scan_s": steady_cpu / steady_scans if steady_scans else None,
        "steady_from_s": _seconds(steady[0].at, t0) if steady else None,
        "steady_scans": steady_scans,
        "rss_peak_mb": max([result.peak_rss_mb, *(s.rss_mb for s in result.samples)]),
        "rss_steady_mb": statistics.median(tail) if tail else None,
        "rss_ready_mb": steady[0].rss_mb if steady else None,
        "rss_stop_mb": steady[-1].rss_mb if steady else None,
        "threads": max((s.threads for s in result.samples), default=0),
        "stop_s": (result.exited_at - stop).total_seconds(),
        "exit_code": result.exit_code,
        "log_errors": result.log_errors,
        "load": result.load,
    }


def start_offset(scans: list[ScanRow], scheduled_after: datetime) -> float | None:
    """How far past its window end the first start-up scan began (seconds).

    Every job runs once at start. With APScheduler 3's own IntervalTrigger each later firing
    inherited this delay (counted from that run, not from the grid); ``beyond_*`` (lateness
    minus this offset) showed it. With the grid trigger the scheduled scans start on the
    grid, and ``beyond_*`` is about minus this offset.
    """
    startup = [s for s in scans if s.window_end <= scheduled_after]
    first = min(startup, key=lambda s: s.started_at, default=None)
    return None if first is None else (first.started_at - first.window_end).total_seconds()


def _missed(result: RunResult, due: list[datetime], scheduled: list[ScanRow]) -> int:
    """Windows due at least one interval before the stop that no scan covered."""
    early = {end for end in due if end <= result.stop_at - result.every}
    covered = {(s.model, s.window_end) for s in scheduled if s.window_end in early}
    return len(early) * result.models - len(covered)


def _seconds(at: datetime | None, since: datetime) -> float | None:
    return None if at is None else (at - since).total_seconds()


def _quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile of sorted ``values``."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]
