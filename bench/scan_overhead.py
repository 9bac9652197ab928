"""Coordination cost per model: `monitor scan` of 1, 10 and 100 tiny models, whole process.

    python bench/scan_overhead.py               # 1, 10, 100 models; 2 rounds each
    python bench/scan_overhead.py --models 1 10 --rounds 1

Every model reads the same 200-row SQLite log (one day of data), so the data work per model
is negligible and what grows with the model count is the per-scan cost of the service:
config, reflection, window queries, reference fingerprint and cache, checks, storing the
scan and its results, alert evaluation and the closing tick. The per-model overhead is the
slope between the smallest and the largest run. Written to bench/results/scan_overhead.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from drift_vs_evidently import RESULTS, ROOT, WRAPPER


def make_log(path: Path) -> None:
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

    rng = np.random.default_rng(3)
    n = 400
    times = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n) * 432, unit="s")
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


def write_config(directory: Path, models: int) -> Path:
    model = {
        "source": "logs",
        "table": "preds",
        "timestamp": "ts",
        "features": {"numerical": ["x", "y"], "categorical": ["plan"]},
        "prediction": "pred",
        "score": "score",
        "target": "label",
        "latency": "latency_ms",
        "reference": {"between": ["2026-01-01", "2026-01-02"]},
        "window": "1d",
        "schedule": {"every": "1d"},
        "checks": {"thresholds": [{"metric": "accuracy", "min": 0.4}]},
    }
    config = {
        "state_db": f"sqlite:///{directory / f'state_{models}.db'}",
        "sources": {"logs": {"url": f"sqlite:///{directory / 'logs.db'}"}},
        "models": [model | {"name": f"m{i:03d}"} for i in range(models)],
    }
    path = directory / f"monitor_{models}.yaml"
    path.write_text(json.dumps(config))
    return path


def run(counts: list[int], rounds: int) -> dict[int, list[dict[str, Any]]]:
    results: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        make_log(directory / "logs.db")
        for _ in range(rounds):
            for n in counts:
                config = write_config(directory, n)
                (directory / f"state_{n}.db").unlink(missing_ok=True)
                upgrade = [sys.executable, "-m", "monitor", "db", "upgrade", "-c", str(config)]
                subprocess.run(upgrade, check=True, cwd=ROOT, capture_output=True)
                at = "2026-01-03T00:00:00Z"
                cmd = [sys.executable, "-m", "monitor", "scan", "-c", str(config), "--at", at]
                stats = _measure_lines(cmd)
                results[n].append(stats)
                print(
                    f"{n:>4} models: {stats['wall_s']:.2f} s, {stats['peak_mb']:.0f} MB", flush=True
                )
    return results


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
    peak = {n: max(r["peak_mb"] for r in runs) for n, runs in results.items()}
    lo, hi = min(wall), max(wall)
    slope = (wall[hi] - wall[lo]) / (hi - lo) if hi > lo else float("nan")
    lines = [
        "`monitor scan --at T` of N tiny models (400-row SQLite log, 3 features, one threshold),"
        " one process each, state DB on SQLite; median wall of the whole process.",
        "",
        "| models | wall (s) | peak memory (MB) | wall per model (s) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {wall[n]:.2f} | {peak[n]:.0f} | {wall[n] / n:.3f} |" for n in sorted(wall)]
    lines += ["", f"Marginal cost per additional model: {slope:.3f} s (slope {lo} -> {hi} models)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    markdown = table(run(args.models, args.rounds))
    print(markdown)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scan_overhead.md").write_text(markdown)


if __name__ == "__main__":
    main()
