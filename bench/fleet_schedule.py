"""The scheduler's own cost with a fleet of small hourly models, on one and on two replicas.

    python bench/fleet_schedule.py                          # 1000 models, 1 and 2 replicas
    python bench/fleet_schedule.py --models 200 --seconds 120 --replicas 1
    python bench/fleet_schedule.py --state-db sqlite        # the embedded store, 1 replica
    python bench/fleet_schedule.py --replicas 1 --base /tmp/base   # before / after, same run

N tiny models (bench/scan_overhead.py's 400-row SQLite log and checks, one shared reference)
scheduled hourly and staggered over the hour (model i: cron ``i % 60 * * * *``), so about
N/60 scans are due each minute. The state DB is PostgreSQL (replicas share one in
production; SQLite is the single-process store). One ``monitor scan`` first stores every
model's latest window, as a service that has been running would have; each experiment then
starts from a copy of that state DB, so the start-up catch-up finds little due and what is
measured is the steady state: per minute the tick, the shard claims and one cohort of scans.

Each experiment starts ``--replicas`` ``monitor run --no-api`` processes at once on the same
state DB (shards split the models), samples each from /proc every second (utime + stime of
all its threads), stops them with SIGTERM after ``--seconds``, and reads the scans stored
meanwhile and each replica's ``scan`` log lines. CPU per hour is the steady CPU per minute
(after the first ``--settle`` seconds of start-up) times 60; lateness is a scan's start
minus its window end (the cron time). Then one steady minute of a single replica is profiled
in this process (cProfile): the scans of one cohort and the tick that follows them; the
CPU of a tick that reads every model (a process's first), of the tick after the cohort's
scans, and of a tick with nothing to judge are measured beside it.

``--base DIR``: an older checkout (``git archive COMMIT | tar -x -C DIR``); each experiment
runs its replicas on that code first ("before", through ``PYTHONPATH``), then on this one
("after"), each on its own copy of the primed state DB.
"""

from __future__ import annotations

import argparse
import cProfile
import fcntl
import io
import json
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli_latency import _python_env
from scan_overhead import ROOT, make_log, upgrade, write_config
from scheduler_overhead import ScanRow, free_port, read_sample, wait_for_offset

sys.path.insert(0, str(ROOT))  # this checkout's monitor, whatever the venv points at
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fleet_config(directory: Path, models: int, start: datetime, state_db: str, name: str) -> Path:
    """bench/scan_overhead.py's models, hourly, model i at minute i % 60, on ``state_db``."""
    config = json.loads(write_config(directory, models, part="run", start=start).read_text())
    config["state_db"] = state_db
    for i, model in enumerate(config["models"]):
        model["schedule"] = f"{i % 60} * * * *"
    path = directory / f"fleet_{name}.yaml"
    path.write_text(json.dumps(config))
    return path


class StateDbs:
    """Fresh state DBs for the runs: copies of the primed one (files, or PostgreSQL
    databases made with ``CREATE DATABASE ... TEMPLATE``), dropped at the end."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind, self.directory = kind, directory
        self.tag = uuid.uuid4().hex[:8]
        self.made: list[str] = []

    def url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.directory / name}.db"
        return PG_ADMIN.rsplit("/", 1)[0] + f"/fleet_{self.tag}_{name}"

    def create(self, name: str, template: str | None = None) -> str:
        if self.kind == "sqlite":
            if template is not None:
                shutil.copy(self.directory / f"{template}.db", self.directory / f"{name}.db")
        else:
            source = f" TEMPLATE fleet_{self.tag}_{template}" if template else ""
            self._admin(f"CREATE DATABASE fleet_{self.tag}_{name}{source}")
            self.made.append(f"fleet_{self.tag}_{name}")
        return self.url(name)

    def drop(self) -> None:
        for name in reversed(self.made):
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
        engine.dispose()


def read_scans(url: str) -> list[ScanRow]:
    import sqlalchemy as sa

    from monitor.store import Scan

    engine = sa.create_engine(url)
    query = sa.select(Scan.model, Scan.window_end, Scan.started_at, Scan.finished_at, Scan.status)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    return [ScanRow(m, utc(w), utc(s), utc(f), status) for m, w, s, f, status in rows]


def utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def prime(config: Path) -> float:
    """Scan every model's latest window once (the history a running service has); its CPU."""
    before = os.times()
    cmd = [sys.executable, "-m", "monitor", "scan", "-c", str(config)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    after = os.times()
    return (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def run_replicas(
    config: Path, replicas: int, seconds: float, code: Path | None = None
) -> tuple[list[Any], list[Path]]:
    """Start ``replicas`` processes together (of the code in ``code``, default this
    checkout), sample them for ``seconds``, stop them."""
    wait_for_offset()
    procs, logs, paths = [], [], []
    env = _python_env(code.resolve() if code else None)
    for r in range(replicas):
        cmd = [sys.executable, "-m", "monitor", "run", "--no-api", "-c", str(config)]
        cmd += ["--port", str(free_port())]
        paths.append(config.parent / f"{config.stem}-replica-{r}.log")
        logs.append(paths[-1].open("w"))
        procs.append(
            subprocess.Popen(
                cmd, cwd=code or ROOT, env=env, stdout=subprocess.DEVNULL, stderr=logs[-1]
            )
        )
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
    return samples, paths


def logged_scans(log: Path, since: datetime) -> int:
    """This replica's ``scan`` log lines of windows ending at or after ``since``."""
    count = 0
    for raw in log.read_text().splitlines():
        if raw.startswith("{"):
            line = json.loads(raw)
            end = line.get("window_end")
            if line["message"] == "scan" and end and datetime.fromisoformat(end) >= since:
                count += 1
    return count


def summarise(
    samples: list[list[Any]], scans: list[ScanRow], logs: list[Path], launched: datetime,
    settle: float,
) -> dict[str, Any]:  # fmt: skip
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
    keys = [(s.model, s.window_end) for s in fresh if s.window_end >= steady_from]
    return {
        "startup_cpu_s": startup_cpu,
        "cpu_per_min_s": steady_cpu,
        "cpu_per_hour_s": [x * 60 for x in steady_cpu],
        "scans": len(fresh),
        "steady_scans": len(late),
        "steady_per_replica": [logged_scans(log, steady_from) for log in logs],
        "duplicates": len(keys) - len(set(keys)),
        "statuses": sorted({s.status for s in fresh}),
        "late_median_s": statistics.median(late) if late else None,
        "late_p95_s": late[int(0.95 * (len(late) - 1))] if late else None,
        "late_max_s": late[-1] if late else None,
        "rss_mb": [max(s.rss_mb for s in own) for own in samples],
    }


def profile_minute(config: Path) -> dict[str, Any]:
    """One steady minute of one replica, in this process: the CPU of its first tick (every
    model read), then under cProfile the scans of the cohort whose cron minute passed last
    (primed before) and the tick that follows them, a shard claim, and last a tick with
    nothing due (each quiet model's next check is known)."""
    from monitor.config import open_config
    from monitor.run.process import warm_up
    from monitor.run.service import Service
    from monitor.sources import SourceEngines
    from monitor.store import make_engine, make_sessionmaker

    warm_up()
    settings = open_config(str(config))
    engine = make_engine(settings.state_db, pool=settings.state_db_pool)
    service = Service(
        config=settings, sessions=make_sessionmaker(engine), engines=SourceEngines(settings.sources)
    )
    service.claim_shards()
    service.caught_up |= {m.name for m in settings.models}
    minute = (datetime.now(UTC) - timedelta(minutes=1)).minute
    cohort = [m.name for i, m in enumerate(settings.models) if i % 60 == minute]
    parts: dict[str, float] = {}
    with _cpu(parts, "first_tick"):  # also compiles its queries
        service.tick()
    profiler = cProfile.Profile()
    with _cpu(parts, "scans"), _enabled(profiler):
        for name in cohort:
            service.scan_model(name)
    with _cpu(parts, "tick"), _enabled(profiler):
        service.tick()
    with _cpu(parts, "claim"), _enabled(profiler):
        service.claim_shards()
    with _cpu(parts, "quiet_tick"):
        service.tick()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(r"monitor/|sqlalchemy/engine/base|sqlalchemy/orm/session", 22)
    service.release_shards()
    service.engines.dispose()
    engine.dispose()
    return {"cpu_s": parts, "cohort": len(cohort), "models": len(settings.models),
            "profile": out.getvalue()}  # fmt: skip


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """``flock(1)``'s exclusive lock on ``path``, waiting for it."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        print(f"holding {path} from {datetime.now(UTC):%H:%M:%S}", flush=True)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _cpu(into: dict[str, float], key: str) -> Iterator[None]:
    start = time.process_time()
    yield
    into[key] = time.process_time() - start


@contextmanager
def _enabled(profiler: cProfile.Profile) -> Iterator[None]:
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=330)
    parser.add_argument("--settle", type=float, default=150, help="start-up seconds left out")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--state-db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--base", type=Path, help="checkout of the code to compare with")
    parser.add_argument("--out", type=Path, default=RESULTS / "fleet_schedule.md")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled minute")
    parser.add_argument(
        "--lock", type=Path, help="hold this file's flock for the timed runs (not the priming)"
    )
    args = parser.parse_args()
    variants = {"after": None} if args.base is None else {"before": args.base, "after": None}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        dbs = StateDbs(args.state_db, directory)
        try:
            start = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
            start -= timedelta(hours=46)
            make_log(directory / "logs.db", start)
            primed = fleet_config(directory, args.models, start, dbs.create("primed"), "primed")
            upgrade(primed)
            primed_cpu = prime(primed)
            print(f"primed {args.models} models in {primed_cpu:.1f} s CPU", flush=True)
            timed = ExitStack()
            if args.lock is not None:
                timed.enter_context(locked(args.lock))
            for replicas in args.replicas:
                for tag, code in variants.items():
                    name = f"run{replicas}{tag}"
                    url = dbs.create(name, template="primed")
                    config = fleet_config(directory, args.models, start, url, name)
                    samples, logs = run_replicas(config, replicas, args.seconds, code)
                    launched = min(own[0].at for own in samples if own) - timedelta(seconds=1)
                    row = summarise(samples, read_scans(url), logs, launched, args.settle)
                    rows[tag, replicas] = row
                    print(f"{tag}, {replicas} replica(s): {json.dumps(row)}", flush=True)
            load = os.getloadavg()
            profile = None
            if not args.no_profile:
                url = dbs.create("profile", template="primed")
                config = fleet_config(directory, args.models, start, url, "profile")
                profile = profile_minute(config)
            timed.close()
        finally:
            dbs.drop()
    text = table(args, rows, primed_cpu, load) + (profile_text(profile) if profile else "")
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


def table(
    args: argparse.Namespace, rows: dict[tuple[str, int], dict[str, Any]], primed_cpu: float,
    load: tuple[float, float, float],
) -> str:  # fmt: skip
    per = args.models / 60
    lines = [
        f"`python bench/fleet_schedule.py {' '.join(sys.argv[1:])}`".replace(" `", "`"),
        "",
        f"{args.models} tiny models, hourly, staggered (model i at minute i % 60: ~{per:.0f} "
        f"scans due a minute), `monitor run --no-api` on a {args.state_db} state DB; every "
        f"model's latest window stored first (one `monitor scan`: {primed_cpu:.0f} s CPU), so "
        "start-up has little to catch up (the windows that came due since). Each run "
        f"{args.seconds:.0f} s; steady = after the first {args.settle:.0f} s. Load average "
        f"after the runs (1 / 5 / 15 min): {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on "
        f"{os.cpu_count()} cores.",
        "",
        "| code | replicas | CPU per replica, steady: per minute (s) | per hour (s) "
        "| CPU in the first "
        f"{args.settle:.0f} s per replica (s) | scans stored: all, of windows due when steady "
        "(per replica), scanned twice | lateness when steady: median / p95 / max (s) "
        "| peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (tag, replicas), row in rows.items():

        def each(key: str, fmt: str, row: dict[str, Any] = row) -> str:
            return " + ".join(fmt.format(x) for x in row[key])

        late = (
            "n/a"
            if row["late_median_s"] is None
            else (f"{row['late_median_s']:.2f} / {row['late_p95_s']:.2f} / {row['late_max_s']:.2f}")
        )
        lines.append(
            f"| {tag} | {replicas} | {each('cpu_per_min_s', '{:.2f}')} "
            f"| {each('cpu_per_hour_s', '{:.0f}')} "
            f"| {each('startup_cpu_s', '{:.1f}')} "
            f"| {row['scans']}, {row['steady_scans']} ({each('steady_per_replica', '{}')}), "
            f"{row['duplicates']} ({', '.join(row['statuses'])}) "
            f"| {late} | {each('rss_mb', '{:.0f}')} |"
        )
    lines += ["", *ratios(rows)]
    return "\n".join(lines) + "\n"


def ratios(rows: dict[tuple[str, int], dict[str, Any]]) -> list[str]:
    """Before / after per replica count: CPU per hour (the sum over replicas) and lateness."""
    out = []
    for (tag, replicas), after in rows.items():
        before = rows.get(("before", replicas))
        if tag != "after" or before is None:
            continue
        was, now = sum(before["cpu_per_hour_s"]), sum(after["cpu_per_hour_s"])
        late = [before["late_median_s"], after["late_median_s"]]
        late_text = f"{late[0]:.2f} -> {late[1]:.2f} s" if None not in late else "n/a"
        out.append(
            f"- {replicas} replica(s): CPU per hour (all replicas) {was:.0f} -> {now:.0f} s, "
            f"{was / now:.1f}x less; median lateness {late_text}."
        )
    return out


def profile_text(profile: dict[str, Any]) -> str:
    cpu = profile["cpu_s"]
    return (
        f"\nOne steady minute of one replica holding every shard ({profile['models']} models), "
        f"in-process, this checkout: its first tick (every model read) {cpu['first_tick']:.2f} s "
        f"CPU; then, with cProfile on (so slower), the {profile['cohort']} scans of one cohort "
        f"{cpu['scans']:.2f} s, the tick after them {cpu['tick'] * 1000:.0f} ms, a shard claim "
        f"{cpu['claim'] * 1000:.0f} ms; then a tick with nothing due {cpu['quiet_tick'] * 1000:.1f}"
        " ms (no profiler). Top of the profile (cumulative):\n\n```\n"
        + profile["profile"].strip()
        + "\n```\n"
    )


if __name__ == "__main__":
    main()
