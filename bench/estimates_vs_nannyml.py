"""Benchmark: our CBPE and reconstruction drift against NannyML's on a 1M-row live window.

    flock /work/bench.lock python bench/estimates_vs_nannyml.py     # 1,000,000 live rows, 3 rounds
    flock /work/bench.lock python bench/estimates_vs_nannyml.py --before ad46740
    python bench/estimates_vs_nannyml.py --rows 100000 --rounds 1

Needs the oracle environment (``tests/oracle/setup_nannyml_env.sh``, default .venv-nannyml);
NannyML runs under that interpreter, ours under the one running this script.

The data (a binary model's label, score and predicted class, 6 numerical and 2 categorical
features; 100,000 reference rows, a live window with covariate shift and a correlation change)
is written once as Parquet under bench/data/ and reused. Each run is its own process: it reads
the Parquet files, fits on the reference and judges the whole live window as one chunk (CBPE:
accuracy, precision, recall, f1, roc_auc; PCA reconstruction error). A small wrapper process
measures that one child: wall time around the whole process (imports and reads included) and
its peak RSS from ``getrusage(RUSAGE_CHILDREN)``. Ours runs twice, as a library user holding
pyarrow Tables and numpy arrays calls it and as one holding pandas DataFrames does; the tools
alternate so that drifting machine load hits all. Every estimate and the reconstruction error
must agree with NannyML's within 1e-6.

Both tools also run warm ("fit stored"), as a scheduled scan of a fixed reference does: the
fits are made once before the rounds (untimed) and stored, ours as ``to_json_dict`` JSON,
NannyML's with its own ``FilesystemStore``; the timed process loads them and judges the
window. ``--before COMMIT`` adds the pyarrow path, cold and fit stored, on that commit's
``checks`` (git archive) to the same rounds (the stored fit is the one this commit stored:
``to_json_dict``'s form is the same). The project's modules are byte-compiled first, as a
wheel install has them. The Markdown section is printed and appended, dated, to
bench/results/estimates_vs_nannyml.md.
"""

from __future__ import annotations

import argparse
import itertools
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
FEATURES = NUMERICAL + CATEGORICAL
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


def _read_columns(path: str, columns: list[str]) -> Any:
    """Only the needed columns, one at a time (a column's compressed and decoded buffers are
    not held beside every other column's), categories as Arrow dictionaries. ParquetFile, not
    ``read_table``: the dataset layer behind read_table imports pandas."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path, read_dictionary=CATEGORICAL, pre_buffer=False)
    return pa.table({c: parquet.read([c], use_threads=False).column(0) for c in columns})


def run_ours(ref_path: str, live_path: str) -> dict[str, float]:
    """The library path a user calls: pyarrow reads the needed columns, numpy arrays and
    pyarrow Tables go into checks.estimated and checks.multivariate. The reference is fitted
    and dropped before the live window is read. No pandas, scipy or scikit-learn is
    imported (checked)."""
    clock = [time.perf_counter()]
    import pyarrow.parquet  # noqa: F401  (the imports, timed apart from the fit)

    import checks.estimated
    import checks.multivariate  # noqa: F401

    clock.append(time.perf_counter())
    reference = _read_columns(ref_path, [*FEATURES, "score", "pred", "y"])
    clock.append(time.perf_counter())
    cbpe, model = _fit_ours(reference, live_path)
    del reference
    clock.append(time.perf_counter())
    return _judge_ours(cbpe, model, live_path, clock, fit_steps=(2,))


def _fit_ours(reference: Any, live_path: str) -> tuple[Any, Any]:
    """CBPE and the reconstruction model fitted on the reference's pyarrow Table, chunked
    as the live window (one chunk of its rows)."""
    import pyarrow.parquet as pq

    from checks.columnar import arrow_numbers
    from checks.estimated import fit_binary
    from checks.multivariate import fit_reconstruction

    cbpe = fit_binary(
        arrow_numbers(reference["y"]),
        arrow_numbers(reference["score"]),
        predicted=arrow_numbers(reference["pred"]) == 1,
    )
    rows = pq.ParquetFile(live_path).metadata.num_rows
    return cbpe, fit_reconstruction(reference, FEATURES, chunk_size=rows)


def run_ours_stored(fits: str, live_path: str) -> dict[str, float]:
    """What a scheduled scan does with a fixed reference: the fits were made once and stored
    as JSON (``to_json_dict``, as the service caches them); this process loads them and
    judges the window, never reading the reference."""
    clock = [time.perf_counter()]
    import pyarrow.parquet  # noqa: F401  (in the imports, as in the cold run)

    from checks.estimated import BinaryCBPE
    from checks.multivariate import ReconstructionModel

    clock.append(time.perf_counter())
    stored = json.loads(Path(fits, "ours.json").read_text())
    cbpe = BinaryCBPE.from_json_dict(stored["cbpe"])
    model = ReconstructionModel.from_json_dict(stored["reconstruction"])
    clock.append(time.perf_counter())
    return _judge_ours(cbpe, model, live_path, clock, fit_steps=(1,))


def _judge_ours(
    cbpe: Any, model: Any, live_path: str, clock: list[float], fit_steps: tuple[int, ...]
) -> dict[str, float]:
    """Read the live window, judge it, and time the phases (``fit_steps``: the clock steps
    after the imports that fitted or loaded the fits; a step before them read the reference)."""
    from checks.columnar import arrow_numbers

    live = _read_columns(live_path, [*FEATURES, "score", "pred"])
    clock.append(time.perf_counter())
    score, predicted = arrow_numbers(live["score"]), arrow_numbers(live["pred"]) == 1
    estimates = cbpe.estimate(score, predicted=predicted)
    drift = model.evaluate(live)
    clock.append(time.perf_counter())
    out: dict[str, float] = {m: e.value for m, e in estimates.items()}
    out["reconstruction_error"] = drift.value
    heavy = [m for m in ("pandas", "scipy", "sklearn") if m in sys.modules]
    if heavy:
        raise RuntimeError(f"the library path imported {heavy}")
    step = [b - a for a, b in itertools.pairwise(clock)]
    fit = sum(step[i] for i in fit_steps)
    reads = sum(step[1:-1]) - fit
    return {**out, "import_s": step[0], "read_s": reads, "fit_s": fit, "window_s": step[-1]}


def store_ours(ref_path: str, live_path: str, fits: str) -> None:
    """Fit once and store the fits as the service caches them (untimed preparation)."""
    reference = _read_columns(ref_path, [*FEATURES, "score", "pred", "y"])
    cbpe, model = _fit_ours(reference, live_path)
    stored = {"cbpe": cbpe.to_json_dict(), "reconstruction": model.to_json_dict()}
    Path(fits, "ours.json").write_text(json.dumps(stored))


def run_ours_pandas(ref_path: str, live_path: str) -> dict[str, float]:
    """The same checks fed pandas DataFrames from ``pd.read_parquet`` (every column), as a
    user holding DataFrames calls them: what pandas and a full read cost."""
    started = time.perf_counter()
    import pandas as pd

    from checks.estimated import fit_binary
    from checks.multivariate import fit_reconstruction

    imported = time.perf_counter()
    reference, live = pd.read_parquet(ref_path), pd.read_parquet(live_path)
    read = time.perf_counter()
    cbpe = fit_binary(reference["y"], reference["score"], predicted=reference["pred"] == 1)
    model = fit_reconstruction(reference, FEATURES, chunk_size=len(live))
    fitted = time.perf_counter()
    estimates = cbpe.estimate(live["score"], predicted=live["pred"] == 1)
    drift = model.evaluate(live)
    out: dict[str, float] = {m: e.value for m, e in estimates.items()}  # type: ignore[misc]
    out["reconstruction_error"] = drift.value  # type: ignore[assignment]
    return {**out, **_phases(started, imported, read, fitted)}


def run_nannyml(ref_path: str, live_path: str) -> dict[str, float]:
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
    started = time.perf_counter()
    import nannyml  # noqa: F401  (its import is timed here, as ours is)
    import pandas as pd

    imported = time.perf_counter()
    reference, live = pd.read_parquet(ref_path), pd.read_parquet(live_path)
    read = time.perf_counter()
    cbpe, calc = _nannyml_fits(reference, len(live))
    fitted = time.perf_counter()
    out = _nannyml_judge(cbpe, calc, live)
    return {**out, **_phases(started, imported, read, fitted)}


def _nannyml_fits(reference: Any, rows: int) -> tuple[Any, Any]:
    import nannyml as nml

    cbpe = nml.CBPE(
        y_pred_proba="score",
        y_pred="pred",
        y_true="y",
        problem_type="classification_binary",
        metrics=METRICS,
        chunk_size=rows,
    )
    cbpe.fit(reference)
    calc = nml.DataReconstructionDriftCalculator(column_names=FEATURES, chunk_size=rows)
    calc.fit(reference)
    return cbpe, calc


def store_nannyml(ref_path: str, live_path: str, fits: str) -> None:
    """Fit once and store both fitted objects with NannyML's own store (untimed)."""
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
    import nannyml as nml
    import pandas as pd
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(live_path).metadata.num_rows
    cbpe, calc = _nannyml_fits(pd.read_parquet(ref_path), rows)
    store = nml.io.store.FilesystemStore(root_path=fits)
    store.store(cbpe, filename="nannyml_cbpe.pkl")
    store.store(calc, filename="nannyml_reconstruction.pkl")


def run_nannyml_stored(fits: str, live_path: str) -> dict[str, float]:
    """NannyML given the same warm treatment: the fitted CBPE and calculator are loaded
    from its ``FilesystemStore`` (joblib pickles), then the window is judged."""
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
    started = time.perf_counter()
    import nannyml as nml
    import pandas as pd

    imported = time.perf_counter()
    store = nml.io.store.FilesystemStore(root_path=fits)
    cbpe = store.load(filename="nannyml_cbpe.pkl", as_type=nml.CBPE)
    calc = store.load(
        filename="nannyml_reconstruction.pkl", as_type=nml.DataReconstructionDriftCalculator
    )
    if cbpe is None or calc is None:  # the store returns None for a missing file
        raise FileNotFoundError(f"no stored NannyML fits under {fits}")
    loaded = time.perf_counter()
    live = pd.read_parquet(live_path)
    read = time.perf_counter()
    out = _nannyml_judge(cbpe, calc, live)
    done = time.perf_counter()
    return {
        **out,
        "import_s": imported - started,
        "read_s": read - loaded,
        "fit_s": loaded - imported,
        "window_s": done - read,
    }


def _nannyml_judge(cbpe: Any, calc: Any, live: Any) -> dict[str, float]:
    estimated = cbpe.estimate(live).filter(period="analysis").to_df()
    drift = calc.calculate(live).filter(period="analysis").to_df()
    out = {m: float(estimated[(m, "value")].iloc[0]) for m in METRICS}
    out["reconstruction_error"] = float(drift[("reconstruction_error", "value")].iloc[0])
    return out


def _phases(started: float, imported: float, read: float, fitted: float) -> dict[str, float]:
    done = time.perf_counter()
    return {
        "import_s": imported - started,
        "read_s": read - imported,
        "fit_s": fitted - read,
        "window_s": done - fitted,
    }


def measure(python: str, tool: str, first: Path, live: Path, path: Path) -> dict[str, Any]:
    """One child process under the wrapper; ``first`` is the reference or the stored fits,
    ``path`` where its ``checks`` package is imported from."""
    from drift_vs_evidently import WRAPPER  # here, not at the top: the child runs this file too

    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        cmd = [python, __file__, "--child", tool, str(first), str(live)]
        env = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1", "PYTHONPATH": str(path)}
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, out.name, *cmd],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        stats: dict[str, Any] = json.loads(done.stdout)
        if stats["returncode"] != 0:
            raise RuntimeError(f"{tool} run failed: {done.stderr[-2000:]}")
        stats["values"] = json.loads(Path(out.name).read_text().strip().splitlines()[-1])
    return stats


TOOLS = {
    "ours": "ours: library, pyarrow",
    "ours-pandas": "ours: library, pandas",
    "nannyml": "NannyML 0.13.1",
    "ours-stored": "ours: fit stored, pyarrow",
    "nannyml-stored": "NannyML 0.13.1: fit stored",
}
#: what a child runs, and whether it starts from the stored fits instead of the reference
RUNNERS = {
    "ours": (run_ours, False),
    "ours-before": (run_ours, False),
    "ours-stored-before": (run_ours_stored, True),
    "ours-pandas": (run_ours_pandas, False),
    "nannyml": (run_nannyml, False),
    "ours-stored": (run_ours_stored, True),
    "nannyml-stored": (run_nannyml_stored, True),
}
#: (label, NannyML's tool, ours) of the ratio columns
RATIOS = [
    ("cold: NannyML / ours (pyarrow)", "nannyml", "ours"),
    ("cold: NannyML / ours (pandas)", "nannyml", "ours-pandas"),
    ("fit stored: NannyML / ours", "nannyml-stored", "ours-stored"),
]
PHASES = {
    "import_s": "of which imports (s)",
    "read_s": "of which Parquet reads (s)",
    "fit_s": "of which fit on the reference, or loading the stored fit (s)",
    "window_s": "of which judging the live window (s)",
}


def table(
    rows: int, runs: dict[str, list[dict[str, Any]]], command: str, load: str, before: str
) -> str:
    med: dict[str, dict[str, float]] = {}
    for tool, rs in runs.items():
        med[tool] = {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "peak_mb")}
        med[tool].update({k: statistics.median(r["values"][k] for r in rs) for k in PHASES})
    labels = dict(TOOLS)
    if "ours-before" in runs:
        labels["ours-before"] = f"ours: library, pyarrow, before ({before})"
        labels["ours-stored-before"] = f"ours: fit stored, pyarrow, before ({before})"
    head = " | ".join([*labels.values(), *(r[0] for r in RATIOS)])
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"## {stamp}: {rows:,} live rows, commit {_commit()}",
        "",
        f"Reference {REFERENCE_ROWS:,} rows; live window {rows:,} rows as one chunk; 6 numerical "
        "+ 2 categorical features; score not calibrated. Whole processes (interpreter start, "
        f"imports and Parquet reads included), median of {len(runs['ours'])} rounds, the tools "
        "alternating.",
        "",
        "What runs. Cold (fit in the process): **ours: library, pyarrow** is the path a library "
        "user takes: `pyarrow.parquet.ParquetFile` reads only the needed columns (categories as "
        "dictionaries), then `checks.estimated.fit_binary` / `.estimate` and "
        "`checks.multivariate.fit_reconstruction` / `.evaluate` on numpy arrays and the "
        "pyarrow Table; pandas, scipy and scikit-learn are never imported (the bench checks). "
        "**ours: library, pandas** is the same calls on DataFrames from `pd.read_parquet` "
        "(every column). NannyML reads with `pd.read_parquet` too and fits `CBPE` and "
        "`DataReconstructionDriftCalculator`. Fit stored (warm, what a scheduled scan of a "
        "fixed reference does): both fits were made once beforehand (untimed) and stored, ours "
        "as the JSON of `to_json_dict` (the form the service caches), NannyML's fitted objects "
        "with its own `nml.io.store.FilesystemStore` (joblib pickles); the timed process loads "
        "them, reads the live window and judges it, never reading the reference. Neither is "
        "the whole service path: a `monitor scan` reads the window from a SQL source into "
        "pandas and stores the results. Installed packages carry their bytecode (pip compiles "
        "it); the project's own modules are compiled once before the rounds, as a wheel "
        "install would.",
        "",
        f"Command: `{command}`, {stamp}. Load average (1, 5, 15 min) before / after: {load}. "
        "2 cores shared with other work, so wall times carry the load; CPU seconds less so.",
        "",
        f"| | {head} |",
        "|---|" + "---:|" * (len(labels) + len(RATIOS)),
    ]

    def row(label: str, key: str, digits: int) -> str:
        cells = " | ".join(f"{med[t][key]:.{digits}f}" for t in labels)
        ratios = " | ".join(f"{med[a][key] / med[b][key]:.1f}x" for _, a, b in RATIOS)
        return f"| {label} | {cells} | {ratios} |"

    lines.append(row("wall time (s)", "wall_s", 2))
    lines.append(row("CPU time (s)", "cpu_s", 2))
    lines.extend(row(label, key, 2) for key, label in PHASES.items())
    lines.append(row("peak RSS (MB)", "peak_mb", 0))
    lines += ["", f"| value | {' | '.join(labels.values())} | largest difference from NannyML |"]
    lines.append("|---|" + "---:|" * (len(labels) + 1))
    for key in [*METRICS, "reconstruction_error"]:
        values = {t: runs[t][0]["values"][key] for t in labels}
        gap = max(abs(v - values["nannyml"]) for v in values.values())
        cells = " | ".join(f"{v:.6f}" for v in values.values())
        lines.append(f"| {key} | {cells} | {gap:.1e} |")
    return "\n".join(lines) + "\n"


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nannyml-python", default=str(NANNYML_PYTHON))
    parser.add_argument(
        "--before",
        metavar="COMMIT",
        help="also time the pyarrow path on this commit's checks package (git archive)",
    )
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "REF_OR_FITS", "LIVE"))
    parser.add_argument("--store", nargs=3, metavar=("TOOL", "REF", "LIVE"))
    args = parser.parse_args()
    if args.child:
        tool, first, live = args.child
        print(json.dumps(RUNNERS[tool][0](first, live)))
        return
    if args.store:
        tool, ref, live = args.store
        {"ours": store_ours, "nannyml": store_nannyml}[tool](ref, live, os.environ["FITS"])
        return
    ref, live = make_data(args.rows)
    with tempfile.TemporaryDirectory(prefix="estimates-bench-") as work:
        runs, load = _rounds(args, ref, live, Path(work))
    for tool in runs:
        for key in [*METRICS, "reconstruction_error"]:
            a, b = runs[tool][0]["values"][key], runs["nannyml"][0]["values"][key]
            if abs(a - b) > 1e-6:
                raise SystemExit(f"{key} differs: {tool} {a}, NannyML {b}")
    command = "flock /work/bench.lock .venv/bin/python bench/estimates_vs_nannyml.py " + " ".join(
        sys.argv[1:]
    )
    text = table(args.rows, runs, command.strip(), load, args.before or "")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "estimates_vs_nannyml.md"
    earlier = path.read_text() if path.exists() else TITLE
    path.write_text(earlier.rstrip("\n") + "\n\n" + text)
    print(text)


TITLE = "# CBPE and reconstruction drift: ours vs NannyML 0.13.1\n"


def _rounds(
    args: Any, ref: Path, live: Path, work: Path
) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """Prepare (bytecode, stored fits, the ``--before`` checkout; untimed), then time the
    tools in turn, ``args.rounds`` times."""
    roots = {tool: ROOT for tool in RUNNERS}
    if args.before:
        roots["ours-before"] = roots["ours-stored-before"] = work / "before"
        roots["ours-before"].mkdir()
        archive = subprocess.run(
            ["git", "archive", args.before, "checks"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(roots["ours-before"])], input=archive, check=True)
    for root in {*roots.values()}:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "checks")], check=True)
    fits = work / "fits"
    fits.mkdir()
    env = {**os.environ, "FITS": str(fits), "PYTHONPATH": str(ROOT)}
    for tool, python in (("ours", sys.executable), ("nannyml", args.nannyml_python)):
        cmd = [python, __file__, "--store", tool, str(ref), str(live)]
        subprocess.run(cmd, check=True, env=env)
    tools = [*TOOLS, *(["ours-before", "ours-stored-before"] if args.before else [])]
    runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    before = _load()
    for _ in range(args.rounds):
        for tool in tools:
            python = args.nannyml_python if tool.startswith("nannyml") else sys.executable
            first = fits if RUNNERS[tool][1] else ref
            runs[tool].append(measure(python, tool, first, live, roots[tool]))
    return runs, f"{before} / {_load()}"


if __name__ == "__main__":
    main()
