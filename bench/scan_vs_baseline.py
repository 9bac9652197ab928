"""Benchmark: `monitor scan` of a PostgreSQL-logged model against read_sql + Evidently.

    python bench/scan_vs_baseline.py                    # 1M reference, 1M live rows, 1 round
    python bench/scan_vs_baseline.py --rows 100000 --rounds 2
    python bench/scan_vs_baseline.py --forms table between previous file --rows 250000 \
        --reference-rows 250000
    python bench/scan_vs_baseline.py --scaling 10000 100000 1000000 10000000
    python bench/scan_vs_baseline.py --forms between --base /tmp/base \
        --base-python /tmp/old-venv/bin/python   # "before": older code and packages

The logs (20 numerical + 5 categorical features, prediction, score, label, latency) are
loaded into the PostgreSQL database ``bench_monitor`` (or $BENCH_DATABASE) once
(bench/pg_data.py) and reused. Every run is its own process, measured whole (imports, reads,
state DB) by the wrapper of bench/drift_vs_evidently.py: wall time, CPU time and peak RSS,
with the bytecode of both checkouts compiled beforehand, as an installed package's is
(:func:`as_installed`). Per round, alternating: the baseline (bench/sql_baseline.py), ours
cold (a fresh state DB, so the reference is read and profiled) and ours warm (the reference
profile is cached). Per-feature and dataset drift verdicts of ours and the baseline must
agree. ``--forms`` repeats that per reference form, on the same rows: ``table`` (a reference
table), ``between`` (the reference day of one log, a UNION ALL view of the reference and
live tables), ``previous: 1d`` (the same day, rolling: warm is the scan after the one of the
day before, which kept its live window as this reference) and ``file`` (the reference table
written once to Parquet); the baseline reads the same reference the same way (the table, the
period, the file). ``--scaling`` runs ours only (warm, exact and warehouse mode) at each
live size. Tables go to stdout and bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pg_data
from drift_vs_evidently import CATEGORICAL, DATASET, NUMERICAL, RESULTS, ROOT, measure

AT = "2026-01-03T00:00:00Z"
PRIME = "2026-01-02T00:00:00Z"  # the scan of the reference day (``previous``: its live window)
START, END = "2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00"


REFERENCE_START = f"{pg_data.REFERENCE_DAY}T00:00:00+00:00"
FORMS = ("table", "between", "previous", "file")


def write_config(
    directory: Path,
    table: str,
    *,
    warehouse: bool,
    reference: dict[str, Any] | None = None,
    reference_table: str = "bench_reference",
) -> Path:
    model: dict[str, Any] = {
        "name": "bench",
        "source": "bench",
        "table": table,
        "timestamp": "ts",
        "features": {"numerical": NUMERICAL, "categorical": CATEGORICAL},
        "prediction": "pred",
        "score": "score",
        "target": "label",
        "latency": "latency_ms",
        "task": "binary_classification",
        "reference": reference or {"table": reference_table},
        "window": "1d",
        "schedule": {"every": "1d"},
        "checks": {
            # the baseline is Evidently: compare like with like (the default is `calibrated`)
            "drift": {"mode": "evidently"},
            "thresholds": [
                {"metric": "accuracy", "min": 0.85},
                {"metric": "latency_p99", "max": 100},
            ],
        },
    }
    if warehouse:
        model["warehouse"] = True
    config = {
        "state_db": f"sqlite:///{directory / 'state.db'}",
        "sources": {"bench": {"url": pg_data.url()}},
        "models": [model],
    }
    path = directory / "monitor.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def fresh_state(config: Path, python: str = sys.executable) -> None:
    (config.parent / "state.db").unlink(missing_ok=True)
    monitor = [python, "-m", "monitor", "db", "upgrade", "-c", str(config)]
    subprocess.run(monitor, check=True, cwd=ROOT, capture_output=True)


@contextmanager
def code(base: Path | None) -> Iterator[None]:
    """Child processes run the code in ``base`` (a checkout of an older commit), if given."""
    before = {k: os.environ.get(k) for k in ("PYTHONPATH", "PYTHONSAFEPATH")}
    if base is not None:
        os.environ["PYTHONPATH"] = str(base)
        os.environ["PYTHONSAFEPATH"] = "1"  # not the working directory (this checkout) first
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def scan_command(config: Path, at: str = AT, python: str = sys.executable) -> list[str]:
    return [python, "-m", "monitor", "scan", "-c", str(config), "--at", at, "--json"]


def baseline_command(table: str, reference: str = "bench_reference") -> list[str]:
    script = str(ROOT / "bench" / "sql_baseline.py")
    url = pg_data.url()
    return [sys.executable, script, url, reference, table, START, END]


def form_setup(
    form: str, live_table: str, reference_rows: int, directory: Path
) -> tuple[str, dict[str, Any], str]:
    """The log table, the model's ``reference:`` and the baseline's reference for ``form``."""
    ref_table = pg_data.reference_table(reference_rows)
    if form == "table":
        return live_table, {"table": ref_table}, ref_table
    if form == "file":
        path = ROOT / "bench" / "data" / f"{ref_table}.parquet"
        if not path.exists():
            import pandas as pd
            import sqlalchemy as sa

            path.parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(pg_data.url())
            columns = ", ".join([*NUMERICAL, *CATEGORICAL, "pred", "score", "label", "latency_ms"])
            with engine.connect() as conn:
                frame = pd.read_sql(sa.text(f"select {columns} from {ref_table}"), conn)
            frame.to_parquet(path, index=False)
            engine.dispose()
        return live_table, {"file": str(path)}, f"file:{path}"
    log = pg_data.ensure_log(live_table, reference_rows)
    period = f"period:{log},{REFERENCE_START},{START}"
    if form == "between":
        return log, {"between": [REFERENCE_START, START]}, period
    return log, {"previous": "1d"}, period


def scan_verdicts(output: dict[str, Any]) -> dict[str, bool | None]:
    if output["status"] == "error":
        raise SystemExit(f"scan failed: {output['error']}")
    flags: dict[str, bool | None] = {}
    for r in output["results"]:
        if r["segment"] == "" and r["check"].startswith("drift:"):
            flags[r["check"][len("drift:") :]] = None if r["passed"] is None else not r["passed"]
        if r["segment"] == "" and r["check"] == "dataset_drift":
            flags[DATASET] = not r["passed"]
    return flags


def run_once(cmd: list[str], label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    stats, output = measure(cmd)
    stats["load"] = os.getloadavg()[0]
    print(
        f"{label:>14}: {stats['wall_s']:.2f} s, CPU {stats['cpu_s']:.2f} s, "
        f"{stats['peak_mb']:.0f} MB",
        flush=True,
    )
    return stats, output


def compare(rows: int, rounds: int) -> str:
    table = pg_data.ensure(rows)
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "cold": [], "warm": []}
    flags: dict[str, dict[str, bool | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), table, warehouse=False)
        for _ in range(rounds):
            stats, output = run_once(baseline_command(table), "baseline")
            runs["baseline"].append(stats)
            flags["baseline"] = {**output["drifted"], DATASET: output["dataset_drift"]}
            fresh_state(config)
            for kind in ("cold", "warm"):
                stats, output = run_once(scan_command(config), f"ours {kind}")
                runs[kind].append(stats)
                flags[kind] = scan_verdicts(output)
    return comparison_table(rows, rounds, runs, flags)


def compare_forms(
    rows: int,
    reference_rows: int,
    rounds: int,
    forms: list[str],
    base: Path | None,
    base_python: str = sys.executable,
) -> str:
    """One table: per reference form, the baseline, ours cold and ours warm, interleaved."""
    live_table = pg_data.ensure(rows, reference_rows)
    lines = [
        f"Model logged in PostgreSQL: reference {reference_rows:,} rows, live window {rows:,} "
        f"rows; {len(NUMERICAL)} numerical + {len(CATEGORICAL)} categorical features plus "
        f"prediction, score, label and latency. {rounds} round(s) per form, the three runs of a "
        "form back to back; wall and CPU = median of whole processes (imports, reads, state "
        "DB), peak = max RSS. Warm = the second `monitor scan` of the same window; for "
        "`previous`, the scan of the live day after a scan of the reference day (fresh state "
        "DB): its reference is the live window that scan kept, and it keeps its own live "
        "window for the next day, as every daily scan of a rolling reference does.",
        "",
        "| reference form | baseline wall / CPU (s) | ours cold wall / CPU (s) "
        "| ours warm wall / CPU (s) | warm vs baseline (wall, CPU) | cold vs baseline (wall, CPU) "
        "| peak MB: baseline / cold / warm | verdicts equal (cold, warm) "
        + ("| before: cold, warm wall / CPU (s) |" if base else "|"),
        "|---|---|---|---|---|---|---|---|" + ("---|" if base else ""),
    ]
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for form in forms:
            log, reference, baseline_ref = form_setup(form, live_table, reference_rows, Path(tmp))
            config = write_config(Path(tmp), log, warehouse=False, reference=reference)
            runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "cold": [], "warm": []}
            flags: dict[str, dict[str, bool | None]] = {}
            old = Path(tmp) / "before"
            old.mkdir(exist_ok=True)
            old_config = write_config(old, log, warehouse=False, reference=reference)
            for _ in range(rounds):
                stats, output = run_once(
                    baseline_command(live_table, baseline_ref), f"{form} baseline"
                )
                runs["baseline"].append(stats)
                flags["baseline"] = {**output["drifted"], DATASET: output["dataset_drift"]}
                fresh_state(config)
                for kind in ("cold", "warm"):
                    if kind == "warm" and form == "previous":
                        # the steady state of a rolling reference: the scan of the day before
                        # kept its live window (the reference day), which this scan reuses
                        fresh_state(config)
                        run_once(scan_command(config, PRIME), f"{form} day before")
                    stats, output = run_once(scan_command(config), f"{form} {kind}")
                    runs[kind].append(stats)
                    flags[kind] = scan_verdicts(output)
                if base is not None:
                    with code(base):
                        fresh_state(old_config, base_python)
                        cold, _ = run_once(
                            scan_command(old_config, python=base_python), f"{form} before cold"
                        )
                        stats, output = run_once(
                            scan_command(old_config, python=base_python), f"{form} before warm"
                        )
                    runs.setdefault("before cold", []).append(cold)
                    runs.setdefault("before", []).append(stats)
                    flags["before"] = scan_verdicts(output)
            loads += [r["load"] for v in runs.values() for r in v]
            lines.append(_form_row(form, runs, flags))
            # the forms done so far, in case a long run is stopped before the last one
            (RESULTS / "scan_vs_baseline_forms.md").write_text(_forms_markdown(lines, loads))
    return _forms_markdown(lines, loads)


def _forms_markdown(lines: list[str], loads: list[float]) -> str:
    machine = (
        f"Machine: {os.cpu_count()} cores shared with other work; 1-minute load after each run: "
        + ", ".join(f"{x:.1f}" for x in loads)
    )
    return "\n".join([*lines, "", machine]) + "\n"


def _form_row(form: str, runs: dict[str, list[dict[str, Any]]], flags: dict[str, Any]) -> str:
    wall = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()}
    peak = {k: max(r["peak_mb"] for r in v) for k, v in runs.items()}
    columns = [*NUMERICAL, *CATEGORICAL]
    agree = {k: sum(flags[k].get(c) == flags["baseline"][c] for c in columns) for k in flags}
    warm = "(next day)" if form == "previous" else ""
    return (
        f"| `{form}` | {wall['baseline']:.1f} / {cpu['baseline']:.1f} "
        f"| {wall['cold']:.1f} / {cpu['cold']:.1f} "
        f"| {wall['warm']:.1f} / {cpu['warm']:.1f} {warm}"
        f"| {wall['baseline'] / wall['warm']:.1f}x, {cpu['baseline'] / cpu['warm']:.1f}x "
        f"| {wall['baseline'] / wall['cold']:.1f}x, {cpu['baseline'] / cpu['cold']:.1f}x "
        f"| {peak['baseline']:.0f} / {peak['cold']:.0f} / {peak['warm']:.0f} "
        f"| {agree['cold']}, {agree['warm']} of {len(columns)} |"
        + (
            f" {wall['before cold']:.1f} / {cpu['before cold']:.1f}, "
            f"{wall['before']:.1f} / {cpu['before']:.1f} |"
            if "before" in runs
            else ""
        )
    )


def comparison_table(
    rows: int, rounds: int, runs: dict[str, list[dict[str, Any]]], flags: dict[str, Any]
) -> str:
    wall = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()}
    peak = {k: max(r["peak_mb"] for r in v) for k, v in runs.items()}
    columns = [*NUMERICAL, *CATEGORICAL]
    agree = {k: sum(flags[k].get(c) == flags["baseline"][c] for c in columns) for k in runs}
    lines = [
        f"Model logged in PostgreSQL: reference {pg_data.REFERENCE_ROWS:,} rows, live window "
        f"{rows:,} rows; {len(NUMERICAL)} numerical + {len(CATEGORICAL)} categorical features "
        f"plus prediction, score, label and latency. {rounds} round(s), alternating; wall and "
        "CPU = median of whole processes, peak = max RSS.",
        "",
        "| | baseline: read_sql + Evidently | ours cold (`monitor scan`) "
        "| ours warm (profile cached) | warm vs baseline | cold vs baseline |",
        "|---|---|---|---|---|---|",
        f"| wall time (s) | {wall['baseline']:.1f} | {wall['cold']:.1f} | {wall['warm']:.1f} "
        f"| {wall['baseline'] / wall['warm']:.1f}x faster (target >= 30x) "
        f"| {wall['baseline'] / wall['cold']:.1f}x faster |",
        f"| CPU time (s) | {cpu['baseline']:.1f} | {cpu['cold']:.1f} | {cpu['warm']:.1f} "
        f"| {cpu['baseline'] / cpu['warm']:.1f}x less "
        f"| {cpu['baseline'] / cpu['cold']:.1f}x less |",
        f"| peak memory (MB) | {peak['baseline']:.0f} | {peak['cold']:.0f} | {peak['warm']:.0f} "
        f"| {peak['warm'] / peak['baseline']:.2f} of baseline (target <= 0.25) "
        f"| {peak['cold'] / peak['baseline']:.2f} of baseline |",
        f"| feature drift verdicts equal to baseline | | {agree['cold']} of {len(columns)} "
        f"| {agree['warm']} of {len(columns)} | | |",
        f"| dataset drift | {flags['baseline'][DATASET]} | {flags['cold'][DATASET]} "
        f"| {flags['warm'][DATASET]} | | |",
        "",
        f"Machine: {os.cpu_count()} cores shared with other work; 1-minute load after each run: "
        + ", ".join(f"{r['load']:.1f}" for v in runs.values() for r in v),
    ]
    return "\n".join(lines) + "\n"


def scaling(sizes: list[int]) -> str:
    lines = [
        "`monitor scan` of one model, warm (reference profile cached), whole process; "
        f"reference {pg_data.REFERENCE_ROWS:,} rows. CPU is this process's; in warehouse mode "
        "most work is the database's, so wall time includes PostgreSQL's aggregation.",
        "",
        "| live rows | exact: wall (s) | exact: CPU (s) | exact: peak (MB) "
        "| warehouse: wall (s) | warehouse: CPU (s) | warehouse: peak (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for rows in sizes:
        table = pg_data.ensure(rows)
        cells = []
        with tempfile.TemporaryDirectory() as tmp:
            primed = False  # both modes share the cached reference profile (same fingerprint)
            for warehouse in (False, True):
                config = write_config(Path(tmp), table, warehouse=warehouse)
                if not primed:
                    fresh_state(config)
                    run_once(scan_command(config), "prime cache")
                    primed = True
                stats, output = run_once(scan_command(config), f"{rows} wh={warehouse}")
                scan_verdicts(output)
                cells += [
                    f"{stats['wall_s']:.1f}",
                    f"{stats['cpu_s']:.1f}",
                    f"{stats['peak_mb']:.0f}",
                ]
        lines.append(f"| {rows:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def as_installed(*checkouts: Path) -> None:
    """Child processes run with their bytecode cached, as an installed package's is (pip
    compiles it); a checkout run with PYTHONDONTWRITEBYTECODE would compile every module of
    the project again in every measured process (about 0.4 CPU s of a warm scan)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for checkout in checkouts:
        folders = [str(checkout / name) for name in ("monitor", "checks", "bench")]
        command = [sys.executable, "-m", "compileall", "-q", *folders]
        subprocess.run(command, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--scaling", type=int, nargs="+")
    parser.add_argument("--forms", nargs="+", choices=FORMS)
    parser.add_argument("--reference-rows", type=int, default=pg_data.REFERENCE_ROWS)
    parser.add_argument(
        "--base", type=Path, help="with --forms: also time this checkout, cold and warm"
    )
    parser.add_argument(
        "--base-python",
        default=sys.executable,
        help="the interpreter of the --base runs (a virtualenv with other package versions)",
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    as_installed(ROOT, *([args.base] if args.base else []))
    if args.scaling:
        markdown, name = scaling(args.scaling), "scan_scaling.md"
    elif args.forms:
        markdown = compare_forms(
            args.rows, args.reference_rows, args.rounds, args.forms, args.base, args.base_python
        )
        name = "scan_vs_baseline_forms.md"
    else:
        markdown = compare(args.rows, args.rounds)
        name = (
            "scan_vs_baseline.md" if args.rows == 1_000_000 else f"scan_vs_baseline_{args.rows}.md"
        )
    print(markdown)
    (RESULTS / name).write_text(markdown)


if __name__ == "__main__":
    main()
