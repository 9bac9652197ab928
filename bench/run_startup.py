"""How long `monitor run` takes from process start to `/healthz` 200, and what the time goes to.

    python bench/run_startup.py                      # 5 rounds, then the import breakdown
    python bench/run_startup.py --rounds 3 --out bench/results/run_startup.md --label "idle"
    python bench/run_startup.py --base /tmp/base --kinds warm --rounds 3   # before/after

One tiny model (a 400-row SQLite log, schedule every minute), a migrated SQLite state DB.
Each round starts `python -m monitor run -c CONFIG --port P` (and the `--no-api` variant)
and polls `/healthz` every 10 ms from the moment of `Popen`, as a startup probe would; it
records when the `started` log line was written, the process's CPU time (utime + stime from
/proc) at the first 200, and the 1-minute load average. Then SIGTERM.

- **cold**: a fresh, empty ``PYTHONPYCACHEPREFIX`` for every run, so no cached bytecode is
  found and every module (ours, pandas, scipy, FastAPI, ...) is compiled from source, as on
  the first start after an install without precompiled bytecode. The OS file cache stays
  warm: dropping it needs root and would disturb everyone else on a shared machine.
- **warm**: the bytecode caches in place (one unmeasured run first fills them).

Cold and warm alternate within each round, so drifting load hits both. With ``--base DIR`` (a
checkout of an older commit) every start is also made with that code (``PYTHONPATH``, its own
fixture migrated by its own code), in the same rounds, and the table gets a ``code`` column.
Then one ``python -X importtime`` run of each kind gives the import breakdown: total import
time, the top-level packages with the largest self time summed over their modules, and the
largest single modules. ``-X importtime`` measures wall time, so on a loaded machine its figures
grow with the load as the start-up does; the CPU column above is the load-independent cost.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEADLINE_S = 600  # a run that is not healthy by then is reported as a failure
TOP = 12


@dataclass(frozen=True)
class Startup:
    """One process start, seconds from ``Popen``."""

    kind: str  # "cold" or "warm"
    api: bool
    code: str  # "after" (this checkout) or "before" (--base)
    healthy_s: float
    started_line_s: float | None
    cpu_s: float | None
    load: float


@dataclass(frozen=True)
class ImportCost:
    package: str
    self_us: int
    modules: int


def parse_importtime(lines: Iterable[str]) -> dict[str, int]:
    """``-X importtime`` stderr -> self time (microseconds) per imported module."""
    found: dict[str, int] = {}
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|", 2)
        found[name.strip()] = found.get(name.strip(), 0) + int(self_us)
    return found


def by_package(modules: dict[str, int]) -> list[ImportCost]:
    """Self times summed per top-level package, largest first."""
    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for name, self_us in modules.items():
        top = name.split(".", 1)[0]
        totals[top] += self_us
        counts[top] += 1
    costs = [ImportCost(p, totals[p], counts[p]) for p in totals]
    return sorted(costs, key=lambda c: (-c.self_us, c.package))


def write_fixture(directory: Path) -> Path:
    """A one-model config over a 400-row SQLite log around now, with a migrated state DB."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    start = now - timedelta(hours=46)
    log = sqlite3.connect(directory / "logs.db")
    log.execute("CREATE TABLE preds (ts TIMESTAMP, x REAL, plan TEXT, pred INTEGER)")
    rows = [
        ((start + timedelta(seconds=432 * i)).isoformat(sep=" "), (i % 17) / 3, "abc"[i % 3], i % 2)
        for i in range(400)
    ]
    log.executemany("INSERT INTO preds VALUES (?, ?, ?, ?)", rows)
    log.commit()
    log.close()
    reference = [start.isoformat(), (start + timedelta(days=1)).isoformat()]
    config = {
        "state_db": f"sqlite:///{directory / 'state.db'}",
        "sources": {"logs": {"url": f"sqlite:///{directory / 'logs.db'}"}},
        "models": [
            {
                "name": "m",
                "source": "logs",
                "table": "preds",
                "timestamp": "ts",
                "features": {"numerical": ["x"], "categorical": ["plan"]},
                "prediction": "pred",
                "reference": {"between": reference},
                "window": "1d",
                "schedule": {"every": "1m"},
            }
        ],
    }
    path = directory / "monitor.yaml"
    path.write_text(json.dumps(config))
    upgrade = [sys.executable, "-m", "monitor", "db", "upgrade", "-c", str(path)]
    subprocess.run(upgrade, cwd=ROOT, check=True, capture_output=True)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 of proc(5)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_once(
    config: Path,
    workdir: Path,
    *,
    kind: str,
    api: bool,
    importtime: bool = False,
    base: Path | None = None,
) -> tuple[Startup, Path]:
    """Start `monitor run`, wait for /healthz 200, stop it; the timings and its stderr file."""
    env = dict(os.environ)
    if base is not None:
        env["PYTHONPATH"] = str(base)
        env["PYTHONSAFEPATH"] = "1"  # `-m` would put the working directory (this checkout) first
    if kind == "cold":
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="pycache-", dir=workdir)
    port = free_port()
    python = [sys.executable, *(["-X", "importtime"] if importtime else [])]
    command = [*python, "-m", "monitor", "run", "-c", str(config), "--port", str(port)]
    command += [] if api else ["--no-api"]
    stderr = workdir / f"{kind}-{'api' if api else 'noapi'}-{time.monotonic_ns()}.err"
    with stderr.open("w") as err:
        launched = time.time()
        began = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            while not healthy(port):
                if proc.poll() is not None or time.perf_counter() - began > DEADLINE_S:
                    raise SystemExit(f"monitor run never got healthy:\n{stderr.read_text()}")
                time.sleep(0.01)
            healthy_s = time.perf_counter() - began
            cpu = cpu_seconds(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(DEADLINE_S)
    started = started_line(stderr, launched)
    code = "before" if base else "after"
    return Startup(kind, api, code, healthy_s, started, cpu, os.getloadavg()[0]), stderr


def started_line(stderr: Path, launched: float) -> float | None:
    """Seconds from launch to the `started` log line (the process's readiness line)."""
    for line in stderr.read_text().splitlines():
        if line.startswith("{") and '"message": "started"' in line:
            written = datetime.fromisoformat(json.loads(line)["time"]).timestamp()
            return written - launched
    return None


def measure(
    configs: dict[Path | None, Path], workdir: Path, rounds: int, kinds: list[str]
) -> list[Startup]:
    """``configs``: the fixture of each code (``None``: this checkout, else a --base)."""
    for base, config in configs.items():
        for api in (True, False):  # fills the bytecode caches
            start_once(config, workdir, kind="warm", api=api, base=base)
    runs = []
    for index in range(rounds):
        for api in (True, False):
            for kind in kinds if index % 2 == 0 else kinds[::-1]:
                for base, config in configs.items():
                    run, _ = start_once(config, workdir, kind=kind, api=api, base=base)
                    runs.append(run)
                    print(
                        f"round {index + 1} {run.code} {kind} {'api' if api else '--no-api'}: "
                        f"healthy after {run.healthy_s:.2f} s (CPU {run.cpu_s} s, "
                        f"load {run.load:.1f})",
                        flush=True,
                    )
    return runs


def import_breakdown(config: Path, workdir: Path) -> dict[str, dict[str, int]]:
    """Module self times of one `-X importtime` start of `monitor run`, cold and warm."""
    out = {}
    for kind in ("cold", "warm"):
        _, stderr = start_once(config, workdir, kind=kind, api=True, importtime=True)
        out[kind] = parse_importtime(stderr.read_text().splitlines())
    return out


def _median(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.2f}" if known else "-"


def startup_table(runs: list[Startup]) -> str:
    lines = [
        "| command | code | bytecode | runs | to /healthz 200: median (s) | min - max (s) "
        "| to `started` line: median (s) | CPU at healthy: median (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    kinds = [k for k in ("cold", "warm") if any(r.kind == k for r in runs)]
    codes = [c for c in ("before", "after") if any(r.code == c for r in runs)]
    for api in (True, False):
        for kind, code in [(k, c) for k in kinds for c in codes]:
            mine = [r for r in runs if r.api == api and r.kind == kind and r.code == code]
            times = [r.healthy_s for r in mine]
            name = "`monitor run`" if api else "`monitor run --no-api`"
            lines.append(
                f"| {name} | {code} | {kind} | {len(mine)} | {statistics.median(times):.2f} "
                f"| {min(times):.2f} - {max(times):.2f} "
                f"| {_median([r.started_line_s for r in mine])} "
                f"| {_median([r.cpu_s for r in mine])} |"
            )
    return "\n".join(lines)


def import_table(breakdown: dict[str, dict[str, int]]) -> str:
    cold, warm = (by_package(breakdown[k]) for k in ("cold", "warm"))
    warm_by_name = {c.package: c for c in warm}
    total = {k: sum(v.values()) / 1e6 for k, v in breakdown.items()}
    lines = [
        f"Total import time (sum of self times): cold {total['cold']:.2f} s, "
        f"warm {total['warm']:.2f} s; {len(breakdown['warm'])} modules.",
        "",
        "| package | modules | cold self (s) | warm self (s) | share of warm |",
        "|---|---|---|---|---|",
    ]
    for cost in cold[:TOP]:
        hot = warm_by_name.get(cost.package)
        warm_s = hot.self_us / 1e6 if hot else 0.0
        share = warm_s / total["warm"] if total["warm"] else 0.0
        lines.append(
            f"| {cost.package} | {cost.modules} | {cost.self_us / 1e6:.3f} "
            f"| {warm_s:.3f} | {share:.0%} |"
        )
    return "\n".join(lines)


def module_table(breakdown: dict[str, dict[str, int]]) -> str:
    warm = sorted(breakdown["warm"].items(), key=lambda item: (-item[1], item[0]))[:TOP]
    lines = ["| module (warm, largest self time) | self (s) |", "|---|---|"]
    lines += [f"| {name} | {self_us / 1e6:.3f} |" for name, self_us in warm]
    return "\n".join(lines)


def report(runs: list[Startup], breakdown: dict[str, dict[str, int]], label: str) -> str:
    loads = ", ".join(f"{r.load:.1f}" for r in runs)
    return "\n".join(
        [
            f"### {label}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores",
            "",
            startup_table(runs),
            "",
            f"1-minute load average after each run: {loads}.",
            "",
            "Import breakdown of one `python -X importtime -m monitor run` start of each kind "
            f"(top {TOP} top-level packages by cold self time):",
            "",
            import_table(breakdown),
            "",
            module_table(breakdown),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--label", default="run")
    parser.add_argument("--out", type=Path, help="append the Markdown section to this file")
    parser.add_argument("--base", type=Path, help="also start this checkout's code (before)")
    parser.add_argument("--kinds", nargs="+", default=["cold", "warm"], choices=["cold", "warm"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        configs: dict[Path | None, Path] = {}
        if args.base is not None:
            (workdir / "before").mkdir()
            before = os.environ.get("PYTHONPATH")
            os.environ["PYTHONPATH"] = str(args.base)
            os.environ["PYTHONSAFEPATH"] = "1"
            try:
                configs[args.base] = write_fixture(workdir / "before")
            finally:
                os.environ.pop("PYTHONPATH")
                os.environ.pop("PYTHONSAFEPATH")
                if before is not None:
                    os.environ["PYTHONPATH"] = before
        configs[None] = write_fixture(workdir)
        runs = measure(configs, workdir, args.rounds, args.kinds)
        breakdown = import_breakdown(configs[None], workdir)
    text = report(runs, breakdown, args.label)
    print(text)
    if args.out:
        with args.out.open("a") as out:
            out.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
