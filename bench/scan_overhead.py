"""Coordination cost per model: 1, 10 and 100 tiny models, one-shot and long-running.

    python bench/scan_overhead.py                     # both parts, 1, 10, 100 models
    python bench/scan_overhead.py --part scan --models 1 10 --rounds 1
    python bench/scan_overhead.py --part run --models 1 2 --seconds 20

Every model reads the same 400-row SQLite log (two days, 200 rows per one-day window), so
the data work per model is negligible and what grows with the model count is the per-scan
cost of the service: config, reflection, window queries, reference fingerprint and cache,
checks, storing the scan and its results, alert evaluation and tick.

- ``scan``: one ``monitor scan --at T`` process over N models; the per-model overhead is
  the slope between the smallest and the largest run.
- ``run``: ``monitor run --no-api`` over N models scheduled ``{every: 1m}`` (window 1d,
  log positioned so every window has data) for ``--seconds``, then SIGTERM; see
  bench/scheduler_overhead.py for what is measured and how.

Written to bench/results/scan_overhead.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import scheduler_overhead
from drift_vs_evidently import RESULTS, ROOT, WRAPPER

LOG_START = datetime(2026, 1, 1)  # the one-shot part scans the window ending 2026-01-03
EVERY = timedelta(minutes=1)


def make_log(path: Path, start: datetime = LOG_START) -> None:
    """400 rows, one every 432 s from ``start`` (naive UTC): two days, 200 rows a day."""
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

    rng = np.random.default_rng(3)
    n = 400
    times = pd.Timestamp(start) + pd.to_timedelta(np.arange(n) * 432, unit="s")
    score = rng.uniform(0, 1, n)
    frame = pd.DataFrame(
        {
            "ts": times,
            "x": rng.normal(0, 1, n),
            "y": rng.normal(5, 2, n),
            "plan": rng.choice(["a", "b", "c"], n),
            "score": score,
            "pred": (score >= 0.5).astype(int),
            "label": rng.integers(0, 2, n),
            "latency_ms": rng.lognormal(3, 0.3, n),
        }
    )
    engine = sa.create_engine(f"sqlite:///{path}")
    frame.to_sql("preds", engine, index=False)
    engine.dispose()


def write_config(
    directory: Path,
    models: int,
    *,
    part: str = "scan",
    start: datetime = LOG_START,
    own_reference: bool = False,
) -> Path:
    """N identical models over the log; the reference is its first day.

    With ``own_reference`` the reference of model i starts i seconds earlier (before the
    first row, so the same rows), which gives every model its own cached profile, as N
    different models would have.
    """
    schedule = {"every": "1d"} if part == "scan" else {"every": "1m"}
    model = {
        "source": "logs",
        "table": "preds",
        "timestamp": "ts",
        "features": {"numerical": ["x", "y"], "categorical": ["plan"]},
        "prediction": "pred",
        "score": "score",
        "target": "label",
        "latency": "latency_ms",
        "window": "1d",
        "schedule": schedule,
        "checks": {"thresholds": [{"metric": "accuracy", "min": 0.4}]},
    }
    config = {
        "state_db": f"sqlite:///{state_db(directory, models, part)}",
        "sources": {"logs": {"url": f"sqlite:///{directory / 'logs.db'}"}},
        "models": [
            model | {"name": f"m{i:03d}", "reference": _reference(start, i if own_reference else 0)}
            for i in range(models)
        ],
    }
    path = directory / f"monitor_{part}_{models}.yaml"
    path.write_text(json.dumps(config))
    return path


def _reference(start: datetime, shift_s: int) -> dict[str, list[str]]:
    first = start - timedelta(seconds=shift_s)
    return {"between": [first.isoformat(), (start + timedelta(days=1)).isoformat()]}


def state_db(directory: Path, models: int, part: str) -> Path:
    return directory / f"state_{part}_{models}.db"


def upgrade(config: Path) -> None:
    cmd = [sys.executable, "-m", "monitor", "db", "upgrade", "-c", str(config)]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)


def run(counts: list[int], rounds: int) -> dict[int, list[dict[str, Any]]]:
    results: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        make_log(directory / "logs.db")
        for _ in range(rounds):
            for n in counts:
                config = write_config(directory, n)
                state_db(directory, n, "scan").unlink(missing_ok=True)
                upgrade(config)
                at = "2026-01-03T00:00:00Z"
                cmd = [sys.executable, "-m", "monitor", "scan", "-c", str(config), "--at", at]
                stats = _measure_lines(cmd) | {"load": os.getloadavg()[0]}
                results[n].append(stats)
                print(
                    f"scan {n:>4} models: {stats['wall_s']:.2f} s, CPU {stats['cpu_s']:.2f} s, "
                    f"{stats['peak_mb']:.0f} MB",
                    flush=True,
                )
    return results


def run_service(
    counts: list[int], seconds: float, *, shared: bool, workdir: Path | None
) -> list[dict[str, Any]]:
    """``monitor run --no-api`` over N models for ``seconds`` each, one process per N."""
    summaries = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = workdir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        # Two days of rows ending about two hours from now: every 1-day window up to then
        # has about 200 rows, and the reference (the log's first day) does not move.
        start = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
        start -= timedelta(hours=46)
        (directory / "logs.db").unlink(missing_ok=True)
        make_log(directory / "logs.db", start)
        for n in counts:
            config = write_config(directory, n, part="run", start=start, own_reference=not shared)
            state_db(directory, n, "run").unlink(missing_ok=True)
            upgrade(config)
            result = scheduler_overhead.measure_run(
                config,
                state_db(directory, n, "run"),
                models=n,
                seconds=seconds,
                every=EVERY,
                cwd=ROOT,
            )
            summary = scheduler_overhead.summarise(result)
            summaries.append(summary)
            print(f"run {n:>4} models: {json.dumps(summary, default=str)}", flush=True)
    return summaries


def _measure_lines(cmd: list[str]) -> dict[str, Any]:
    """bench/drift_vs_evidently.py's wrapper; --json prints one scan per line here."""
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        wrapper = [sys.executable, "-c", WRAPPER, out.name, *cmd, "--json"]
        done = subprocess.run(wrapper, capture_output=True, text=True, cwd=ROOT, check=True)
        scans = [json.loads(line) for line in Path(out.name).read_text().splitlines()]
    if any(s["status"] == "error" for s in scans):
        raise SystemExit(f"a scan failed: {scans}")
    stats: dict[str, Any] = json.loads(done.stdout)
    return stats


def table(results: dict[int, list[dict[str, Any]]]) -> str:
    wall = {n: statistics.median(r["wall_s"] for r in runs) for n, runs in results.items()}
    cpu = {n: statistics.median(r["cpu_s"] for r in runs) for n, runs in results.items()}
    peak = {n: max(r["peak_mb"] for r in runs) for n, runs in results.items()}
    lo, hi = min(wall), max(wall)
    slope = (wall[hi] - wall[lo]) / (hi - lo) if hi > lo else float("nan")
    lines = [
        "`monitor scan --at T` of N tiny models (400-row SQLite log, 3 features, one threshold),"
        " one process each, state DB on SQLite; median wall of the whole process.",
        "",
        "| models | wall (s) | CPU (s) | peak memory (MB) | wall per model (s) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {n} | {wall[n]:.2f} | {cpu[n]:.2f} | {peak[n]:.0f} | {wall[n] / n:.3f} |"
        for n in sorted(wall)
    ]
    loads = ", ".join(f"{r['load']:.1f}" for runs in results.values() for r in runs)
    lines += [
        "",
        f"Marginal cost per additional model: {slope:.3f} s (slope {lo} -> {hi} models).",
        f"1-minute load average after each run: {loads}.",
    ]
    return "\n".join(lines) + "\n"


RUN_ROWS: list[tuple[str, str, str]] = [
    # (label, summary key, format)
    ("start to scheduler running (s)", "to_scheduler_s", "{:.1f}"),
    ("start to first scan stored (s)", "to_first_scan_s", "{:.1f}"),
    ("start to every model's first scan stored (s)", "to_all_first_scans_s", "{:.1f}"),
    ("scans stored (rows in `scan`)", "scans", "{}"),
    ("scheduled windows due / scanned", "windows_due", "{}"),
    ("windows missed (due >= 1 min before stop, not scanned)", "windows_missed", "{}"),
    ("lateness, scan start - window end: median (s)", "late_median_s", "{:.2f}"),
    ("lateness: p95 (s)", "late_p95_s", "{:.2f}"),
    ("lateness: max (s)", "late_max_s", "{:.2f}"),
    ("last scan of a window stored, after its window end (s)", "done_late_max_s", "{:.2f}"),
    ("the start-up run's first scan, after its window end (s)", "start_offset_s", "{:.2f}"),
    ("CPU per minute of running, steady (s)", "cpu_per_min_s", "{:.2f}"),
    ("CPU per scan, steady (s)", "cpu_per_scan_s", "{:.3f}"),
    ("CPU of the whole process (s)", "cpu_total_s", "{:.1f}"),
    ("peak RSS (MB)", "rss_peak_mb", "{:.0f}"),
    ("steady RSS, median of the last minute (MB)", "rss_steady_mb", "{:.0f}"),
    ("RSS when every model had scanned -> at SIGTERM (MB)", "rss_ready_mb", "{:.0f}"),
    ("threads (max)", "threads", "{}"),
    ("SIGTERM to exit (s), exit code", "stop_s", "{:.1f}"),
]


def run_table(summaries: list[dict[str, Any]], seconds: float, *, shared: bool) -> str:
    reference = "one shared reference" if shared else "each its own reference"
    lines = [
        f"`monitor run --no-api` over N tiny models (the same log and checks, {reference}), each "
        f"`schedule: {{every: 1m}}`, `window: 1d` (about 200 rows per window), state DB on "
        f"SQLite migrated first; started {scheduler_overhead.START_OFFSET_S} s after a minute "
        f"boundary, stopped with SIGTERM after {seconds:.0f} s. One process per N, sampled "
        "from /proc every second (CPU = utime + stime of all its threads, RSS). Steady = "
        "from the moment every model had its first scan stored until SIGTERM.",
        "",
        "| | " + " | ".join(_models(s["models"]) for s in summaries) + " |",
        "|---|" + "---|" * len(summaries),
    ]
    lines += [
        f"| {label} | " + " | ".join(_cell(s, key, fmt) for s in summaries) + " |"
        for label, key, fmt in RUN_ROWS
    ]
    for s in summaries:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(s["statuses"].items()))
        errors = "; ".join(f"{k} x{v}" for k, v in s["log_errors"].items()) or "none"
        lines += [
            "",
            f"{_models(s['models'])}: scan statuses {statuses}; errors/warnings logged: {errors}; "
            f"1-minute load average before / after: {s['load'][0]:.1f} / {s['load'][1]:.1f}.",
        ]
    return "\n".join(lines) + "\n"


def _models(n: int) -> str:
    return f"{n} model" if n == 1 else f"{n} models"


def _cell(summary: dict[str, Any], key: str, fmt: str) -> str:
    value = summary[key]
    if value is None:
        return "n/a"
    if key == "windows_due":
        return f"{value} / {summary['windows_scanned']}"
    if key == "rss_ready_mb":
        return f"{value:.0f} -> {summary['rss_stop_mb']:.0f}"
    if key == "stop_s":
        return f"{value:.1f}, {summary['exit_code']}"
    return fmt.format(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=2, help="one-shot rounds per N")
    parser.add_argument("--seconds", type=float, default=150, help="running time per N")
    parser.add_argument("--part", choices=["scan", "run", "both"], default="both")
    parser.add_argument(
        "--shared-reference",
        action="store_true",
        help="run: all models share one reference (one cached profile) instead of one each",
    )
    parser.add_argument(
        "--workdir", type=Path, help="run: keep the configs, state DBs and logs here"
    )
    args = parser.parse_args()
    parts = []
    if args.part in ("scan", "both"):
        parts.append("### One-shot: `monitor scan`\n\n" + table(run(args.models, args.rounds)))
    if args.part in ("run", "both"):
        summaries = run_service(
            args.models, args.seconds, shared=args.shared_reference, workdir=args.workdir
        )
        markdown = run_table(summaries, args.seconds, shared=args.shared_reference)
        parts.append("### Long-running: `monitor run`\n\n" + markdown)
    machine = f"Machine: {os.cpu_count()} cores, shared with other work.\n"
    markdown = "\n".join([*parts, machine])
    print(markdown)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scan_overhead.md").write_text(markdown)


if __name__ == "__main__":
    main()
