"""What a whole process costs before it does any estimating: the floor under
bench/estimates_vs_nannyml.py's "fit stored" and "cold" processes.

    flock /work/bench.lock python bench/estimates_floor.py          # 15 rounds
    python bench/estimates_floor.py --rounds 3

Each step is its own process, started the same way, the steps interleaved round by round:
an empty interpreter, ``import numpy``, ``import numpy, pyarrow.parquet`` (what any process
reading Parquet into numpy pays), the same plus the ``checks`` imports, the same plus the
bench's 10-column read of the 1M-row window, then the bench's own fit-stored and cold
children, and the fit-stored child again with ``OPENBLAS_NUM_THREADS=1`` as a diagnostic
(OpenBLAS's worker thread, started at ``import numpy``, spins before it sleeps). CPU is
user + system of the process and its threads (``wait4``); prints a Markdown table of median
CPU, least CPU and median wall. Needs the bench data and stored fits that
bench/estimates_vs_nannyml.py writes (``--store ours`` into ``FITS``); it makes them if absent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import estimates_vs_nannyml as bench

BENCH = Path(bench.__file__).resolve()


def steps(live: Path, ref: Path, fits: Path) -> dict[str, list[str]]:
    python = sys.executable
    read = (
        f"import sys; sys.path.insert(0, {str(BENCH.parent)!r}); import numpy, pyarrow.parquet; "
        "from estimates_vs_nannyml import _read_columns, FEATURES; "
        f"_read_columns({str(live)!r}, [*FEATURES, 'score', 'pred'])"
    )
    child = [python, str(BENCH), "--child"]
    return {
        "python -c pass": [python, "-c", "pass"],
        "import numpy": [python, "-c", "import numpy"],
        "import numpy, pyarrow.parquet": [python, "-c", "import numpy, pyarrow.parquet"],
        "+ checks.estimated, checks.multivariate": [
            python, "-c", "import numpy, pyarrow.parquet, checks.estimated, checks.multivariate"
        ],
        "import numpy, pyarrow.parquet + read the window (10 columns)": [python, "-c", read],
        "fit-stored child (whole)": [*child, "ours-stored", str(fits), str(live)],
        "fit-stored child, OPENBLAS_NUM_THREADS=1 (diagnostic)": [
            "/usr/bin/env", "OPENBLAS_NUM_THREADS=1", *child, "ours-stored", str(fits), str(live)
        ],
        "cold child (whole)": [*child, "ours", str(ref), str(live)],
    }  # fmt: skip


def run(argv: list[str]) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(bench.ROOT)}
    started = time.perf_counter()
    pid = os.posix_spawn(
        argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)]
    )
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} failed")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--fits", default="/tmp/estimates-floor-fits")
    args = parser.parse_args()
    ref, live = bench.make_data(1_000_000)
    fits = Path(args.fits)
    if not (fits / "ours.json").exists():
        fits.mkdir(parents=True, exist_ok=True)
        store = [sys.executable, str(BENCH), "--store", "ours", str(ref), str(live)]
        env = {**os.environ, "FITS": str(fits), "PYTHONPATH": str(bench.ROOT)}
        subprocess.run(store, check=True, env=env)
    todo = steps(live, ref, fits)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in todo}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    for _ in range(args.rounds):
        for name, argv in todo.items():
            times[name].append(run(argv))
    after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.rounds} rounds; load average (1, 5, 15 min) before / after: {load} / {after}\n")
    print("| process | CPU s, median | CPU s, least | wall s, median |\n|---|---:|---:|---:|")
    for name, pairs in times.items():
        cpu = [c for c, _ in pairs]
        wall = [w for _, w in pairs]
        print(
            f"| {name} | {statistics.median(cpu):.3f} | {min(cpu):.3f} | "
            f"{statistics.median(wall):.3f} |"
        )


if __name__ == "__main__":
    main()
