"""Benchmark: peak memory of a scan whose categorical column is all distinct values (ids).

    python bench/category_cap.py                   # 2,000,000 rows per day, 1 round
    python bench/category_cap.py --rows 10000000 --rounds 2

A PostgreSQL table (database ``bench_monitor``, see bench/pg_data.py) holds two days of
logs: ``age``, ``pred`` and ``user_id``, a text column whose every value is distinct. The
model compares day 2 with day 1 (a fixed reference, read and summarised: each run starts
from a fresh state DB). Each run is its own process, measured whole by the wrapper of
bench/drift_vs_evidently.py, alternating in one run:

* ``main``: the code of /work/main (or ``--baseline DIR``) before the cap existed;
* ``uncapped``: this code with ``checks.drift.max_categories: null``;
* ``capped``: this code with the default ``max_categories`` (10,000).

Results to stdout and bench/results/category_cap.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pg_data
from drift_vs_evidently import RESULTS, ROOT, WRAPPER

AT = "2026-01-03T00:00:00Z"
CHUNK = 500_000


def ensure_table(rows: int) -> str:
    """``bench_ids_<rows>``: ``rows`` rows on each of 2026-01-01 and 2026-01-02."""
    import numpy as np
    import psycopg

    table = f"bench_ids_{rows}"
    pg_data.ensure_database()
    with psycopg.connect(pg_data.url("postgresql")) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if found and found[0] is not None:
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # our own name
            if count and count[0] == 2 * rows:
                return table
            conn.execute(f"DROP TABLE {table}")
        conn.execute(f"CREATE TABLE {table} (ts timestamptz, age float8, pred int, user_id text)")
        rng = np.random.default_rng(7)
        for day in (0, 1):
            for start in range(0, rows, CHUNK):
                n = min(CHUNK, rows - start)
                seconds = rng.integers(0, 86400, n) + day * 86400
                times = np.datetime64("2026-01-01T00:00:00") + seconds.astype("timedelta64[s]")
                stamps = np.datetime_as_string(times, unit="s")
                ids = np.arange(start, start + n) + day * rows
                buffer = io.StringIO()
                for ts, age, pred, user in zip(
                    stamps, rng.normal(40, 10, n), rng.integers(0, 2, n), ids, strict=True
                ):
                    buffer.write(f"{ts}+00\t{age:.3f}\t{pred}\tuser-{user:012d}\n")
                statement = f"COPY {table} (ts, age, pred, user_id) FROM STDIN"
                with conn.cursor().copy(statement) as copy:
                    copy.write(buffer.getvalue())
        conn.execute(f"CREATE INDEX ON {table} (ts)")
        conn.commit()
    return table


def write_config(directory: Path, table: str, cap: int | str | None) -> Path:
    drift: dict[str, Any] = {}
    if cap != "default":
        drift["max_categories"] = cap
    model = {
        "name": "ids",
        "source": "bench",
        "table": table,
        "timestamp": "ts",
        "features": {"numerical": ["age"], "categorical": ["user_id"]},
        "prediction": "pred",
        "reference": {"between": ["2026-01-01", "2026-01-02"]},
        "window": "1d",
        "schedule": {"every": "1d"},
        "checks": {"drift": drift},
    }
    config = {
        "state_db": f"sqlite:///{directory / 'state.db'}",
        "sources": {"bench": {"url": pg_data.url()}},
        "models": [model],
    }
    path = directory / f"monitor-{cap}.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def run(config: Path, code: Path, label: str) -> dict[str, Any]:
    """One scan from a fresh state DB, run from ``code`` (``python -m`` puts the working
    directory first on the path, so that is the code that runs)."""
    (config.parent / "state.db").unlink(missing_ok=True)
    monitor = [sys.executable, "-m", "monitor"]
    upgrade = [*monitor, "db", "upgrade", "-c", str(config)]
    subprocess.run(upgrade, check=True, cwd=code, capture_output=True)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        scan = [*monitor, "scan", "-c", str(config), "--at", AT, "--json"]
        wrapper = [sys.executable, "-c", WRAPPER, out.name, *scan]
        done = subprocess.run(wrapper, capture_output=True, text=True, cwd=code, check=True)
        stats = json.loads(done.stdout)
        output = json.loads(Path(out.name).read_text().splitlines()[0])
    if output["status"] == "error":
        raise SystemExit(f"{label}: scan failed: {output['error']}")
    drift = next(r for r in output["results"] if r["check"] == "drift:user_id")
    print(
        f"{label:>9}: {stats['wall_s']:.2f} s, CPU {stats['cpu_s']:.2f} s, "
        f"{stats['peak_mb']:.0f} MB, drift:user_id passed={drift['passed']}",
        flush=True,
    )
    return dict(stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows per day")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline", type=Path, default=Path("/work/main"))
    args = parser.parse_args()
    table = ensure_table(args.rows)
    runs: dict[str, list[dict[str, Any]]] = {"main": [], "uncapped": [], "capped": []}
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        configs = {
            "main": (write_config(directory, table, "default"), args.baseline),
            "uncapped": (write_config(directory, table, None), ROOT),
            "capped": (write_config(directory, table, "default"), ROOT),
        }
        for _ in range(args.rounds):
            for label, (config, code) in configs.items():
                runs[label].append(run(config, code, label))
    peak = {k: max(r["peak_mb"] for r in v) for k, v in runs.items()}
    wall = {k: min(r["wall_s"] for r in v) for k, v in runs.items()}
    lines = [
        f"PostgreSQL table of {args.rows:,} rows per day, `user_id` all distinct "
        f"({args.rows:,} categories in the live window and {args.rows:,} in the reference); "
        f"`monitor scan` from a fresh state DB, {args.rounds} round(s), alternating; "
        "peak = max RSS of the process, wall = fastest run.",
        "",
        "| | main (no cap) | this branch, `max_categories: null` | this branch, default cap "
        "(10,000) | capped / main |",
        "|---|---|---|---|---|",
        f"| peak memory (MB) | {peak['main']:.0f} | {peak['uncapped']:.0f} | "
        f"{peak['capped']:.0f} | {peak['capped'] / peak['main']:.2f} |",
        f"| wall time (s) | {wall['main']:.1f} | {wall['uncapped']:.1f} | "
        f"{wall['capped']:.1f} | {wall['capped'] / wall['main']:.2f} |",
        "",
        f"Machine: 2 cores, shared; 1-minute load average at the end: {os.getloadavg()[0]:.1f}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "category_cap.md").write_text(text)


if __name__ == "__main__":
    main()
