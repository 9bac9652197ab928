"""Benchmark: our CBPE and reconstruction drift against NannyML's on a 1M-row live window.

    python bench/estimates_vs_nannyml.py                       # 1,000,000 live rows, 2 rounds
    python bench/estimates_vs_nannyml.py --rows 100000 --rounds 1

Needs the oracle environment (``tests/oracle/setup_nannyml_env.sh``, default .venv-nannyml);
NannyML runs under that interpreter, ours under the one running this script.

The data (a binary model's label, score and predicted class, 6 numerical and 2 categorical
features; 100,000 reference rows, a live window with covariate shift and a correlation change)
is written once as Parquet under bench/data/ and reused. Each run is its own process: it reads
the Parquet files, fits on the reference and judges the whole live window as one chunk (CBPE:
accuracy, precision, recall, f1, roc_auc; PCA reconstruction error). A small wrapper process
measures that one child: wall time around the whole process (imports and reads included) and
its peak RSS from ``getrusage(RUSAGE_CHILDREN)``. The two tools alternate so that drifting
machine load hits both. The estimated accuracy, roc_auc and the reconstruction error must agree.
The Markdown table is printed and written to bench/results/estimates_vs_nannyml.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
NANNYML_PYTHON = ROOT / ".venv-nannyml" / "bin" / "python"
REFERENCE_ROWS = 100_000
NUMERICAL = [f"n{i}" for i in range(6)]
CATEGORICAL = ["c0", "c1"]
METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"]


def _frame(rows: int, seed: int, shift: float, rho: float) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, (rows, len(NUMERICAL)))
    x[:, 1] = rho * x[:, 0] + np.sqrt(1 - rho**2) * rng.normal(size=rows)
    p = 1 / (1 + np.exp(-(1.2 * x[:, 0] - 0.8 * x[:, 2] + 0.5 * x[:, 3])))
    frame = pd.DataFrame(x, columns=NUMERICAL)
    frame["c0"] = np.where(x[:, 4] > 0.3, "high", np.where(x[:, 4] > -0.5, "mid", "low"))
    frame["c1"] = rng.choice(["a", "b", "c", "d"], size=rows, p=[0.4, 0.3, 0.2, 0.1])
    frame["y"] = (rng.uniform(size=rows) < p).astype(int)
    frame["score"] = p**2  # not calibrated: CBPE has to calibrate it
    frame["pred"] = (frame["score"] >= 0.25).astype(int)
    return frame


def make_data(rows: int) -> tuple[Path, Path]:
    ref_path = DATA / f"estimates_reference_{REFERENCE_ROWS}.parquet"
    live_path = DATA / f"estimates_live_{rows}.parquet"
    DATA.mkdir(parents=True, exist_ok=True)
    if not ref_path.exists():
        _frame(REFERENCE_ROWS, 1, 0.0, 0.6).to_parquet(ref_path)
    if not live_path.exists():
        _frame(rows, 2, 0.4, -0.3).drop(columns="y").to_parquet(live_path)
    return ref_path, live_path


def run_ours(ref_path: str, live_path: str) -> dict[str, float]:
    started = time.perf_counter()
    import pandas as pd

    from checks.estimated import fit_binary
    from checks.multivariate import fit_reconstruction

    imported = time.perf_counter()
    reference, live = pd.read_parquet(ref_path), pd.read_parquet(live_path)
    read = time.perf_counter()
    cbpe = fit_binary(reference["y"], reference["score"], predicted=reference["pred"] == 1)
    columns = NUMERICAL + CATEGORICAL
    model = fit_reconstruction(reference, columns, chunk_size=len(live))
    fitted = time.perf_counter()
    estimates = cbpe.estimate(live["score"], predicted=live["pred"] == 1)
    drift = model.evaluate(live)
    out: dict[str, float] = {m: e.value for m, e in estimates.items()}  # type: ignore[misc]
    out["reconstruction_error"] = drift.value  # type: ignore[assignment]
    return {**out, **_phases(started, imported, read, fitted)}


def run_nannyml(ref_path: str, live_path: str) -> dict[str, float]:
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
    started = time.perf_counter()
    import nannyml as nml
    import pandas as pd

    imported = time.perf_counter()
    reference, live = pd.read_parquet(ref_path), pd.read_parquet(live_path)
    read = time.perf_counter()
    cbpe = nml.CBPE(
        y_pred_proba="score",
        y_pred="pred",
        y_true="y",
        problem_type="classification_binary",
        metrics=METRICS,
        chunk_size=len(live),
    )
    cbpe.fit(reference)
    calc = nml.DataReconstructionDriftCalculator(
        column_names=NUMERICAL + CATEGORICAL, chunk_size=len(live)
    )
    calc.fit(reference)
    fitted = time.perf_counter()
    estimated = cbpe.estimate(live).filter(period="analysis").to_df()
    drift = calc.calculate(live).filter(period="analysis").to_df()
    out = {m: float(estimated[(m, "value")].iloc[0]) for m in METRICS}
    out["reconstruction_error"] = float(drift[("reconstruction_error", "value")].iloc[0])
    return {**out, **_phases(started, imported, read, fitted)}


def _phases(started: float, imported: float, read: float, fitted: float) -> dict[str, float]:
    done = time.perf_counter()
    return {
        "import_s": imported - started,
        "read_s": read - imported,
        "fit_s": fitted - read,
        "window_s": done - fitted,
    }


def measure(python: str, tool: str, ref: Path, live: Path) -> dict[str, Any]:
    from drift_vs_evidently import WRAPPER  # here, not at the top: the child runs this file too

    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        cmd = [python, __file__, "--child", tool, str(ref), str(live)]
        env = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1", "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, out.name, *cmd],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        stats = json.loads(done.stdout)
        if stats["returncode"] != 0:
            raise RuntimeError(f"{tool} run failed: {done.stderr[-2000:]}")
        stats["values"] = json.loads(Path(out.name).read_text().strip().splitlines()[-1])
    return stats


def table(rows: int, runs: dict[str, list[dict[str, Any]]]) -> str:
    med = {
        tool: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "peak_mb")}
        for tool, rs in runs.items()
    }
    for tool, rs in runs.items():
        for k in ("import_s", "read_s", "fit_s", "window_s"):
            med[tool][k] = statistics.median(r["values"][k] for r in rs)
    ours, theirs = med["ours"], med["nannyml"]
    v_ours, v_theirs = runs["ours"][0]["values"], runs["nannyml"][0]["values"]
    lines = [
        f"# CBPE and reconstruction drift: ours vs NannyML 0.13.1 ({rows:,} live rows)",
        "",
        f"Reference {REFERENCE_ROWS:,} rows; live window {rows:,} rows as one chunk; 6 numerical "
        "+ 2 categorical features; score not calibrated. Whole processes (imports and Parquet "
        f"reads included), median of {len(runs['ours'])} rounds. "
        "Produced by `python bench/estimates_vs_nannyml.py`.",
        "",
        "| | ours | NannyML | NannyML / ours |",
        "|---|---:|---:|---:|",
        f"| wall time (s) | {ours['wall_s']:.2f} | {theirs['wall_s']:.2f} | "
        f"{theirs['wall_s'] / ours['wall_s']:.1f}x |",
        f"| CPU time (s) | {ours['cpu_s']:.2f} | {theirs['cpu_s']:.2f} | "
        f"{theirs['cpu_s'] / ours['cpu_s']:.1f}x |",
        f"| of which imports (s) | {ours['import_s']:.2f} | {theirs['import_s']:.2f} | "
        f"{theirs['import_s'] / ours['import_s']:.1f}x |",
        f"| of which Parquet reads (s) | {ours['read_s']:.2f} | {theirs['read_s']:.2f} | "
        f"{theirs['read_s'] / ours['read_s']:.1f}x |",
        f"| of which fit on the reference (s) | {ours['fit_s']:.2f} | {theirs['fit_s']:.2f} | "
        f"{theirs['fit_s'] / ours['fit_s']:.1f}x |",
        f"| of which judging the live window (s) | {ours['window_s']:.2f} | "
        f"{theirs['window_s']:.2f} | {theirs['window_s'] / ours['window_s']:.1f}x |",
        f"| peak RSS (MB) | {ours['peak_mb']:.0f} | {theirs['peak_mb']:.0f} | "
        f"{theirs['peak_mb'] / ours['peak_mb']:.1f}x |",
        "",
        "| value | ours | NannyML | difference |",
        "|---|---:|---:|---:|",
    ]
    for key in [*METRICS, "reconstruction_error"]:
        a, b = v_ours[key], v_theirs[key]
        lines.append(f"| {key} | {a:.6f} | {b:.6f} | {abs(a - b):.1e} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--nannyml-python", default=str(NANNYML_PYTHON))
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "REF", "LIVE"))
    args = parser.parse_args()
    if args.child:
        tool, ref, live = args.child
        values = (run_ours if tool == "ours" else run_nannyml)(ref, live)
        print(json.dumps(values))
        return
    ref, live = make_data(args.rows)
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "nannyml": []}
    for _ in range(args.rounds):
        runs["ours"].append(measure(sys.executable, "ours", ref, live))
        runs["nannyml"].append(measure(args.nannyml_python, "nannyml", ref, live))
    for key in ("accuracy", "roc_auc", "reconstruction_error"):
        a, b = runs["ours"][0]["values"][key], runs["nannyml"][0]["values"][key]
        if abs(a - b) > 1e-6:
            raise SystemExit(f"{key} differs: ours {a}, NannyML {b}")
    text = table(args.rows, runs)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "estimates_vs_nannyml.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
