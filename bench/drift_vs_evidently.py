"""Benchmark: `monitor drift --json` against Evidently's DataDriftPreset on the same Parquet files.

    python bench/drift_vs_evidently.py                # 1,000,000 rows x 25 columns, 2 rounds
    python bench/drift_vs_evidently.py --rows 100000 --rounds 1

The data (20 numerical + 5 categorical columns, drift in 6 numerical and 2 categorical) is
written once under bench/data/ and reused. Each run is its own process, started by a small
wrapper process that measures that one child: wall time around the whole process (imports
and reads included) and its peak RSS from ``getrusage(RUSAGE_CHILDREN)``. The two tools
alternate so that drifting machine load hits both. Per-column verdicts must agree.
The Markdown table is printed and written to bench/results/drift_vs_evidently.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
NUMERICAL = [f"n{i:02d}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
DRIFTED_NUMERICAL = {"n00": 0.5, "n03": 0.2, "n07": 0.1, "n11": 1.0, "n15": 0.05, "n19": 0.3}
DRIFTED_CATEGORICAL = {"c1", "c4"}
DATASET = "(dataset)"

# Runs one command, sends its stdout to a file, prints wall seconds and the child's peak RSS.
WRAPPER = """
import json, resource, subprocess, sys, time
out_path, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
with open(out_path, "w") as out:
    code = subprocess.run(cmd, stdout=out).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "peak_mb": usage.ru_maxrss / 1024, "returncode": code}))
"""


def make_data(rows: int) -> tuple[Path, Path]:
    """Seeded reference and current Parquet files; reused when they already exist."""
    ref_path, cur_path = DATA / f"reference_{rows}.parquet", DATA / f"current_{rows}.parquet"
    if ref_path.exists() and cur_path.exists():
        return ref_path, cur_path
    import numpy as np
    import pandas as pd

    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20260101)
    for path, drifted in ((ref_path, False), (cur_path, True)):
        columns: dict[str, Any] = {}
        for i, name in enumerate(NUMERICAL):
            shift = DRIFTED_NUMERICAL.get(name, 0.0) if drifted else 0.0
            scale = 1.0 + i % 4
            columns[name] = rng.normal(10 * i + shift * scale, scale, rows)
        for i, name in enumerate(CATEGORICAL):
            levels = [f"{name}_level{k}" for k in range(3 + 2 * i)]
            weights = np.linspace(1.0, 2.0, len(levels))
            if drifted and name in DRIFTED_CATEGORICAL:
                weights = weights[::-1] ** 2
            columns[name] = rng.choice(levels, rows, p=weights / weights.sum())
        pd.DataFrame(columns).to_parquet(path.with_suffix(".tmp"), index=False)
        path.with_suffix(".tmp").replace(path)
    return ref_path, cur_path


def commands(ref: Path, cur: Path) -> dict[str, list[str]]:
    cols = ["--numerical", ",".join(NUMERICAL), "--categorical", ",".join(CATEGORICAL)]
    return {
        "ours": [sys.executable, "-m", "monitor", "drift", str(ref), str(cur), *cols, "--json"],
        "evidently": [
            sys.executable,
            str(ROOT / "bench" / "evidently_baseline.py"),
            str(ref),
            str(cur),
            *cols,
        ],
    }


def measure(cmd: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One process of ``cmd``: its measurements and its parsed JSON output."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    try:
        wrapper = [sys.executable, "-c", WRAPPER, str(out_path), *cmd]
        stats = json.loads(
            subprocess.run(wrapper, capture_output=True, text=True, cwd=ROOT, check=True).stdout
        )
        if stats["returncode"] not in (0, 1):
            raise SystemExit(f"{cmd[:4]} failed with exit code {stats['returncode']}")
        return stats, json.loads(out_path.read_text())
    finally:
        out_path.unlink(missing_ok=True)


def verdicts(tool: str, output: dict[str, Any]) -> dict[str, bool | None]:
    """Per-column drift flags, plus the dataset verdict under the key ``(dataset)``."""
    if tool == "ours":
        flags = {c["column"]: c["drifted"] for c in output["columns"]}
    else:
        flags = dict(output["drifted"])
    return {**flags, DATASET: output["dataset_drift"]}


def run(ref: Path, cur: Path, rounds: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "evidently": []}
    flags: dict[str, dict[str, bool | None]] = {}
    for round_no in range(rounds):
        for tool, cmd in commands(ref, cur).items():
            stats, output = measure(cmd)
            stats["load"] = os.getloadavg()[0]
            runs[tool].append(stats)
            flags[tool] = verdicts(tool, output)
            print(
                f"round {round_no + 1} {tool:>9}: {stats['wall_s']:.2f} s, "
                f"CPU {stats['cpu_s']:.2f} s, {stats['peak_mb']:.0f} MB",
                flush=True,
            )
    return {"runs": runs, "flags": flags}


def table(rows: int, rounds: int, result: dict[str, Any]) -> str:
    runs, flags = result["runs"], result["flags"]
    wall = {tool: statistics.median(r["wall_s"] for r in runs[tool]) for tool in runs}
    cpu = {tool: statistics.median(r["cpu_s"] for r in runs[tool]) for tool in runs}
    peak = {tool: max(r["peak_mb"] for r in runs[tool]) for tool in runs}
    columns = sorted(c for c in flags["evidently"] if c != DATASET)
    agree = sum(flags["ours"].get(c) == flags["evidently"][c] for c in columns)
    same_dataset = flags["ours"][DATASET] == flags["evidently"][DATASET]
    speedup = wall["evidently"] / wall["ours"]
    memory = peak["ours"] / peak["evidently"]
    lines = [
        f"Reference and current: {rows:,} rows x {len(NUMERICAL)} numerical + "
        f"{len(CATEGORICAL)} categorical columns (Parquet); {rounds} round(s), alternating; "
        "wall and CPU = median over runs of the whole process, peak = max RSS of the process.",
        "",
        "| | ours (`monitor drift --json`) | Evidently DataDriftPreset | ratio |",
        "|---|---|---|---|",
        f"| wall time (s) | {wall['ours']:.2f} | {wall['evidently']:.2f} | "
        f"{speedup:.1f}x faster (target >= 50x) |",
        f"| CPU time, user + sys (s) | {cpu['ours']:.2f} | {cpu['evidently']:.2f} | "
        f"{cpu['evidently'] / cpu['ours']:.1f}x less |",
        f"| peak memory (MB) | {peak['ours']:.0f} | {peak['evidently']:.0f} | "
        f"{memory:.2f} of Evidently's (target <= 0.33) |",
        f"| per-column verdicts | | | {agree} of {len(columns)} identical |",
        f"| dataset drift | {flags['ours'][DATASET]} | {flags['evidently'][DATASET]} | "
        f"{'identical' if same_dataset else 'DIFFERENT'} |",
        "",
        f"Machine: {os.cpu_count()} cores, shared; 1-minute load average after each run: "
        + ", ".join(f"{r['load']:.1f}" for tool in runs for r in runs[tool])
        + " (ours and Evidently alike run slower under load).",
        "",
        "Per run (s / MB): "
        + "; ".join(
            f"{tool} " + ", ".join(f"{r['wall_s']:.2f}/{r['peak_mb']:.0f}" for r in runs[tool])
            for tool in runs
        ),
    ]
    disagreements = [c for c in columns if flags["ours"].get(c) != flags["evidently"][c]]
    if disagreements:
        lines.append(f"Verdicts differ on: {', '.join(disagreements)}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ref, cur = make_data(args.rows)
    markdown = table(args.rows, args.rounds, run(ref, cur, args.rounds))
    print(markdown)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = (
        "drift_vs_evidently.md" if args.rows == 1_000_000 else f"drift_vs_evidently_{args.rows}.md"
    )
    (RESULTS / name).write_text(markdown)


if __name__ == "__main__":
    main()
