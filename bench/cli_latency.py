"""Wall time of the commands a person on call runs, on a state DB with a year of history.

    python bench/cli_latency.py --demo-dir /tmp/lat-demo --base /tmp/lat-base
    python bench/cli_latency.py --runs 5 --out bench/results/cli_latency.md

The state DB holds 365 daily scans for each of 20 models (SQLite and PostgreSQL), their check
results, and alerts with their events. The rows are copied from a `monitor demo` state DB
(its real scan, result and alert shapes), replicated per model and day with SQLAlchemy Core on
the reflected tables, so the same generator fills the schema of any code version.

Each command (`status`, `status --json`, `alerts`, `alerts --state all --json`, `alerts show`,
`ack`; ``--commands`` picks some) runs as a fresh `python -m monitor ...` process; the figure is
the median wall time of ``--runs`` runs, with the process's CPU time (user + system, from
``resource``) beside it, median and least (the least is the steadier on a loaded machine).
``python -c "import sqlalchemy"`` is the floor. Before each timed `ack` an untimed `unack` puts
the alert back to firing, so every timed `ack` is a real transition with its outbox delivery
(before, every `ack` after the first was refused: a read, no write). With ``--base DIR`` (a
checkout of an older commit, e.g. ``git worktree add /tmp/lat-base 58fe298``) the same commands
run against that code (through ``PYTHONPATH``) in the same run, each on its own state DB migrated
by its own code, so the two columns see the same load.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MODELS = 20
DAYS = 365
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
UNACK = ["unack", "--by", "bench"]


def _python_env(code: Path | None) -> dict[str, str]:
    env = dict(os.environ, NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    if code is not None:
        env["PYTHONPATH"] = str(code)
        # `python -m` puts the working directory first on sys.path; in a checkout that would
        # be that checkout's code, whatever PYTHONPATH says
        env["PYTHONSAFEPATH"] = "1"
    return env


def _config(demo: Path, state_url: str, path: Path) -> list[str]:
    settings = yaml.safe_load((demo / "monitor.yaml").read_text(encoding="utf-8"))
    templates = settings["models"]
    models = []
    for i in range(MODELS):
        model = copy.deepcopy(templates[i % len(templates)])
        model["name"] = f"{model['name']}_{i:02d}"
        models.append(model)
    settings["models"] = models
    settings["state_db"] = state_url
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return [m["name"] for m in models]


def _fill(demo: Path, state_url: str, names: list[str]) -> int:
    """Replicate the demo's rows: DAYS scans per model; returns a firing alert's id."""
    src = sa.create_engine(f"sqlite:///{demo / 'monitor.db'}")
    dst = sa.create_engine(state_url)
    aware = dst.dialect.name == "postgresql"
    meta = sa.MetaData()
    meta.reflect(dst)
    tables = {name: meta.tables[name] for name in ("scan", "check_result", "alert", "alert_event")}
    with src.connect() as s:
        rows = {
            name: [
                dict(r._mapping) for r in s.execute(sa.text(f"select * from {name} order by id"))
            ]
            for name in tables
        }
    template_scan: dict[str, dict[str, Any]] = {}
    for scan in rows["scan"]:
        template_scan[scan["model"]] = scan  # the last scan of each demo model
    results: dict[int, list[dict[str, Any]]] = {}
    for result in rows["check_result"]:
        results.setdefault(result["scan_id"], []).append(result)

    def put(table: str, row: dict[str, Any], shift: timedelta) -> dict[str, Any]:
        out = {}
        for column in tables[table].columns:
            if column.name not in row:
                continue
            value = row[column.name]
            if isinstance(column.type, sa.JSON) and isinstance(value, str):
                value = json.loads(value)
            elif isinstance(column.type, sa.DateTime) and value is not None:
                value = datetime.fromisoformat(str(value)) - shift
                value = value.replace(tzinfo=UTC) if aware else value
            out[column.name] = value
        return out

    ids = {"scan": 0, "check_result": 0, "alert": 0}
    firing = 0
    templates = sorted(template_scan)
    with dst.begin() as d:
        for i, name in enumerate(names):
            template = template_scan[templates[i % len(templates)]]
            scans, checks = [], []
            for day in range(DAYS):
                shift = timedelta(days=DAYS - 1 - day)
                ids["scan"] += 1
                scans.append(put("scan", template, shift) | {"id": ids["scan"], "model": name})
                for result in results.get(template["id"], []):
                    ids["check_result"] += 1
                    checks.append(
                        put("check_result", result, shift)
                        | {"id": ids["check_result"], "scan_id": ids["scan"]}
                    )
            d.execute(tables["scan"].insert(), scans)
            if checks:
                d.execute(tables["check_result"].insert(), checks)
            alerts, events = [], []
            for day in range(0, DAYS, 7):  # the demo's alerts every week, resolved but the last
                shift = timedelta(days=DAYS - 1 - day)
                for alert in rows["alert"]:
                    ids["alert"] += 1
                    row = put("alert", alert, shift) | {"id": ids["alert"], "model": name}
                    if day + 7 < DAYS:
                        row.update(state="resolved", resolved_at=row["raised_at"])
                    elif alert["state"] == "firing" and not firing:
                        firing = ids["alert"]
                    alerts.append(row)
                    for event in rows["alert_event"]:
                        if event["alert_id"] == alert["id"]:
                            own = put("alert_event", event, shift)
                            own.pop("id", None)
                            events.append(own | {"alert_id": ids["alert"]})
            d.execute(tables["alert"].insert(), alerts)
            if events:
                d.execute(tables["alert_event"].insert(), events)
        if aware:
            for table in ids:
                d.execute(
                    sa.text(
                        f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(select max(id) from {table}))"
                    )
                )
    if aware:
        with dst.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("analyze"))
    dst.dispose()
    return firing


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        return wall, cpu, f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
    return wall, cpu, ""


def _state_urls(tag: str, tmp: Path, backends: list[str]) -> dict[str, str]:
    urls = {}
    if "sqlite" in backends:
        urls["sqlite"] = f"sqlite:///{tmp / f'state-{tag}.db'}"
    if "postgresql" in backends:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f"drop database if exists cli_latency_{tag}"))
            c.execute(sa.text(f"create database cli_latency_{tag}"))
        admin.dispose()
        urls["postgresql"] = PG_ADMIN.rsplit("/", 1)[0] + f"/cli_latency_{tag}"
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo-dir", type=Path, help="a `monitor demo --dir` (default: make one)")
    parser.add_argument("--base", type=Path, help="checkout of the code to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=RESULTS / "cli_latency.md")
    parser.add_argument("--configs", type=Path, nargs="+", help="configs of filled state DBs")
    parser.add_argument("--alert", type=int, default=1, help="with --configs: a firing alert")
    parser.add_argument(
        "--commands", help="comma-separated labels of the commands to run (default: all six)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cli-latency-"))
    demo = args.demo_dir
    if demo is None:
        demo = tmp / "demo"
        subprocess.run([sys.executable, "-m", "monitor", "demo", "--dir", str(demo)], check=True)
    variants: dict[str, Path | None] = {"after": ROOT}
    if args.base is not None:
        variants = {"before": args.base.resolve(), "after": ROOT}
    backends = args.backends.split(",")
    commands = {
        "status": ["status"],
        "status --json": ["status", "--json"],
        "alerts": ["alerts"],
        "alerts --state all --json": ["alerts", "--state", "all", "--json"],
        "alerts show": ["alerts", "show", "{alert}"],
        "ack": ["ack", "{alert}", "--by", "bench"],
    }
    if args.commands:
        wanted = [c.strip() for c in args.commands.split(",")]
        unknown = [c for c in wanted if c not in commands]
        if unknown:
            raise SystemExit(f"--commands: unknown {unknown}; expected some of {list(commands)}")
        commands = {c: commands[c] for c in wanted}
    setups: dict[tuple[str, str], tuple[Path, int, dict[str, str]]] = {}
    if args.configs:  # state DBs filled before (e.g. by an earlier run), read by every variant
        for config in args.configs:
            url = yaml.safe_load(config.read_text(encoding="utf-8"))["state_db"]
            backend = "postgresql" if url.startswith("postgresql") else "sqlite"
            for tag, code in variants.items():
                setups[tag, backend] = (config.resolve(), args.alert, _python_env(code))
        backends = [b for b in backends if any(k[1] == b for k in setups)]
    for tag, code in variants.items() if not args.configs else ():
        env = _python_env(code)
        for backend, url in _state_urls(tag, tmp, backends).items():
            config = tmp / f"monitor-{tag}-{backend}.yaml"
            names = _config(demo, url, config)
            cmd = [sys.executable, "-m", "monitor", "db", "upgrade", "-c", str(config)]
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            start = time.perf_counter()
            firing = _fill(demo, url, names)
            print(f"{tag}/{backend}: filled in {time.perf_counter() - start:.1f} s", flush=True)
            setups[tag, backend] = (config, firing, env)
    where = subprocess.run(
        [sys.executable, "-c", "import monitor; print(monitor.__file__)"],
        env=_python_env(variants.get("before")),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"before code: {where}", flush=True)
    figures: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    floor: list[tuple[float, float]] = []
    for _ in range(args.runs):  # rounds interleave every variant, so load drift hits all
        wall, cpu, _err = _run([sys.executable, "-c", "import sqlalchemy"], _python_env(None))
        floor.append((wall, cpu))
        for (tag, backend), (config, firing, env) in setups.items():
            for label, argv in commands.items():
                argv = [a.format(alert=firing) for a in argv]
                if label == "ack":  # untimed: every timed ack acknowledges a firing alert
                    _run(
                        [sys.executable, "-m", "monitor", *UNACK, str(firing), "-c", str(config)],
                        env,
                    )
                wall, cpu, err = _run(
                    [sys.executable, "-m", "monitor", *argv, "-c", str(config)], env
                )
                if err:
                    raise SystemExit(f"{tag}/{backend} `{label}`: {err}")
                figures.setdefault((label, backend, tag), []).append((wall, cpu))
    load = os.getloadavg()[0]
    med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
    lines = [
        "# CLI latency on a year of history",
        "",
        f"`python bench/cli_latency.py{' --base ' + str(args.base) if args.base else ''}"
        f" --runs {args.runs}`: {MODELS} models x {DAYS} daily scans, the demo's check results"
        " per scan and its alerts every week; median wall (and CPU, and the least CPU) seconds of"
        f" a fresh `python -m monitor` process over {args.runs} runs; 1-min load average at the end"
        f" {load:.1f} on {os.cpu_count()} cores.",
        "",
        f'Floor, `python -c "import sqlalchemy"`: {med(floor, 0):.2f} s wall,'
        f" {med(floor, 1):.2f} s CPU (least {min(x[1] for x in floor):.2f} s).",
        "",
    ]
    cols = " | ".join(f"{t} wall (CPU; least CPU)" for t in variants)
    header = f"| command | backend | {cols} |"
    lines += [header, "|" + "---|" * (2 + len(variants))]
    for label in commands:
        for backend in backends:
            cells = []
            for tag in variants:
                xs = figures[label, backend, tag]
                least = min(x[1] for x in xs)
                cells.append(f"{med(xs, 0):.2f} s ({med(xs, 1):.2f} s; {least:.2f} s)")
            lines.append(f"| `{label}` | {backend} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
