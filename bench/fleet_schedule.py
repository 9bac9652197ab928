"""The scheduler's own cost with a fleet of small hourly models, on one and on two replicas.

    python bench/fleet_schedule.py                          # 1000 models, 1 and 2 replicas
    python bench/fleet_schedule.py --models 200 --seconds 120 --replicas 1

N tiny models (bench/scan_overhead.py's 400-row SQLite log and checks, one shared reference)
scheduled hourly and staggered over the hour (model i: cron ``i % 60 * * * *``), so about
N/60 scans are due each minute. One ``monitor scan`` first stores every model's latest
window, as a service that has been running would have; each experiment then starts from a
copy of that state DB, so the start-up catch-up finds nothing due and what is measured is the
steady state: per minute the tick, and one cohort of scans.

Each experiment starts ``--replicas`` ``monitor run --no-api`` processes at once on the same
state DB (leases share the work), samples each from /proc every second (utime + stime of all
its threads), stops them with SIGTERM after ``--seconds``, and reads the scans stored meanwhile.
CPU per hour is the steady CPU per minute (after the first ``--settle`` seconds of start-up)
times 60; lateness is a scan's start minus its window end (the cron time).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scan_overhead import ROOT, make_log, upgrade, write_config
from scheduler_overhead import free_port, read_sample, read_scans, wait_for_offset

RESULTS = ROOT / "bench" / "results"


def fleet_config(directory: Path, models: int, start: datetime) -> Path:
    """bench/scan_overhead.py's models, hourly, model i at minute i % 60."""
    path = write_config(directory, models, part="run", start=start)
    config = json.loads(path.read_text())
    for i, model in enumerate(config["models"]):
        model["schedule"] = f"{i % 60} * * * *"
    path.write_text(json.dumps(config))
    return path


def prime(config: Path) -> float:
    """Scan every model's latest window once (the history a running service has); its CPU."""
    before = os.times()
    cmd = [sys.executable, "-m", "monitor", "scan", "-c", str(config)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    after = os.times()
    return (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def run_replicas(config: Path, replicas: int, seconds: float) -> list[list[Any]]:
    """Start ``replicas`` processes together, sample them for ``seconds``, stop them."""
    wait_for_offset()
    procs = []
    logs = []
    for r in range(replicas):
        cmd = [sys.executable, "-m", "monitor", "run", "--no-api", "-c", str(config)]
        cmd += ["--port", str(free_port())]
        log = (config.parent / f"replica-{replicas}-{r}.log").open("w")
        logs.append(log)
        procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log))
    samples: list[list[Any]] = [[] for _ in procs]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i, proc in enumerate(procs):
            sample = read_sample(proc.pid)
            if sample is not None:
                samples[i].append(sample)
        time.sleep(1.0)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc, log in zip(procs, logs, strict=True):
        proc.wait(120)
        log.close()
    return samples


def summarise(
    samples: list[list[Any]], scans: list[Any], launched: datetime, settle: float
) -> dict[str, Any]:
    steady_cpu, startup_cpu = [], []
    for own in samples:
        steady = [s for s in own if (s.at - launched).total_seconds() >= settle]
        minutes = (steady[-1].at - steady[0].at).total_seconds() / 60
        steady_cpu.append((steady[-1].cpu_s - steady[0].cpu_s) / minutes)
        startup_cpu.append(steady[0].cpu_s)
    fresh = [s for s in scans if s.started_at >= launched]
    # windows that came due in the steady phase: the catch-up of those missed between the
    # priming scan and the start (minutes on a loaded machine) is start-up, not lateness
    steady_from = launched + timedelta(seconds=settle)
    late = sorted(
        (s.started_at - s.window_end).total_seconds() for s in fresh if s.window_end >= steady_from
    )
    return {
        "startup_cpu_s": startup_cpu,
        "cpu_per_min_s": steady_cpu,
        "cpu_per_hour_s": [x * 60 for x in steady_cpu],
        "scans": len(fresh),
        "steady_scans": len(late),
        "statuses": sorted({s.status for s in fresh}),
        "late_median_s": statistics.median(late) if late else None,
        "late_p95_s": late[int(0.95 * (len(late) - 1))] if late else None,
        "late_max_s": late[-1] if late else None,
        "rss_mb": [max(s.rss_mb for s in own) for own in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--settle", type=float, default=40, help="start-up seconds left out")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        start = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
        start -= timedelta(hours=46)
        make_log(directory / "logs.db", start)
        config = fleet_config(directory, args.models, start)
        state = directory / f"state_run_{args.models}.db"
        upgrade(config)
        primed_cpu = prime(config)
        print(f"primed {args.models} models in {primed_cpu:.1f} s CPU", flush=True)
        pristine = directory / "primed.db"
        shutil.copy(state, pristine)
        for replicas in args.replicas:
            shutil.copy(pristine, state)
            samples = run_replicas(config, replicas, args.seconds)
            launched = min(own[0].at for own in samples if own) - timedelta(seconds=1)
            rows[replicas] = summarise(samples, read_scans(state), launched, args.settle)
            print(f"{replicas} replica(s): {json.dumps(rows[replicas])}", flush=True)
    text = table(args, rows, primed_cpu)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fleet_schedule.md").write_text(text)


def table(args: argparse.Namespace, rows: dict[int, dict[str, Any]], primed_cpu: float) -> str:
    per = args.models / 60
    lines = [
        f"{args.models} tiny models, hourly, staggered (model i at minute i % 60: ~{per:.0f} "
        f"scans due a minute), `monitor run --no-api` on a SQLite state DB; every model's "
        f"latest window stored first (one `monitor scan`: {primed_cpu:.0f} s CPU), so start-up "
        "has little to catch up (the windows that came due since). Each run "
        f"{args.seconds:.0f} s; steady = after the first "
        f"{args.settle:.0f} s. Load average at the end: {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores.",
        "",
        "| replicas | CPU per replica, steady: per minute (s) | per hour (s) | CPU in the first "
        f"{args.settle:.0f} s per replica (s) | scans stored: all, of windows due when steady "
        "| lateness when steady: median / p95 / max (s) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for replicas, row in rows.items():

        def each(key: str, fmt: str, row: dict[str, Any] = row) -> str:
            return " + ".join(fmt.format(x) for x in row[key])

        late = (
            "n/a"
            if row["late_median_s"] is None
            else (f"{row['late_median_s']:.2f} / {row['late_p95_s']:.2f} / {row['late_max_s']:.2f}")
        )
        lines.append(
            f"| {replicas} | {each('cpu_per_min_s', '{:.2f}')} "
            f"| {each('cpu_per_hour_s', '{:.0f}')} "
            f"| {each('startup_cpu_s', '{:.1f}')} "
            f"| {row['scans']}, {row['steady_scans']} ({', '.join(row['statuses'])}) "
            f"| {late} | {each('rss_mb', '{:.0f}')} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
