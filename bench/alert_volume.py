"""Slack volume of the issue-15 scenario, this checkout beside a baseline git ref, in one run.

    python bench/alert_volume.py                     # SQLite, baseline aa25ddb (before issue 15)
    python bench/alert_volume.py --baseline main --extra-run "--notify all"

The scenario is ``tests/monitor/alerts/houses.py``: a regression model with 8 districts of
very different sizes, a 30-window ``monitor scan --from/--to`` with one real shift in its
last 10 windows, one drift check flipping every window and one breaking for two windows,
every message going to the fake Slack of the tests. Each code runs in its own process on a
fresh SQLite state DB; the same config file serves both (it names no new setting). Counts
parent messages, thread replies and edits, and the alerts stored.

Writes the table to ``bench/results/alert_volume.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "monitor" / "alerts" / "houses.py"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="aa25ddb", help="git ref of the code before")
    parser.add_argument(
        "--extra-run", default="--notify all", help="options of one more run of this checkout"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--args", default="", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.worker is not None:
        print(json.dumps(_scenario(args.worker, args.args.split())))
        return
    rows = []
    with _baseline(args.baseline) as before:
        rows.append(_run(before, "", f"{args.baseline} (before)"))
    rows.append(_run(str(ROOT), "", "this checkout"))
    if args.extra_run:
        rows.append(_run(str(ROOT), args.extra_run, f"this checkout, `{args.extra_run}`"))
    _write(rows, load=os.getloadavg()[0])


@contextmanager
def _baseline(ref: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="baseline-") as folder:
        archive = subprocess.run(
            ["git", "archive", ref, "monitor", "checks", "alembic", "alembic.ini"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        yield folder


def _run(code: str, extra: str, label: str) -> dict[str, object]:
    command = [sys.executable, __file__, "--worker", code, "--args", extra]
    started, cpu = time.monotonic(), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, cwd=code)
    if done.returncode != 0:
        raise SystemExit(f"{label} failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result |= {
        "code": label,
        "seconds": round(time.monotonic() - started, 1),
        "cpu": round(_children_cpu() - cpu, 1),
    }
    print(json.dumps(result), flush=True)
    return result


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: load-independent."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _scenario(code: str, extra: list[str]) -> dict[str, object]:
    """In the worker process: ``code``'s monitor package, this checkout's fake Slack."""
    sys.path[:0] = [code, str(ROOT)]
    houses = _load(SCENARIO)
    from sqlalchemy import create_engine, text

    import monitor
    from monitor.cli import main as cli
    from monitor.store import migrate
    from tests.fakes.slack import FakeSlack

    # The code measured is the one asked for (the editable install would give this checkout).
    assert Path(monitor.__file__).parent == Path(code) / "monitor", monitor.__file__
    with tempfile.TemporaryDirectory(prefix="volume-") as folder:
        url = f"sqlite:///{folder}/state.db"
        houses.write_data(url)
        migrate.upgrade(url)
        with FakeSlack().running() as fake:
            config = houses.write_config(url, fake.base_url, Path(folder))
            try:
                cli(houses.backfill_args(config, *extra))
            except SystemExit as exc:
                if exc.code:
                    raise
            posts = houses.count(fake.calls)
        engine = create_engine(url)
        with engine.connect() as conn:
            alerts = conn.execute(text("SELECT count(*) FROM alert")).scalar_one()
        engine.dispose()
    return {
        "parents": posts.parents,
        "replies": posts.replies,
        "edits": posts.edits,
        "posts": posts.posts,
        "alerts": alerts,
    }


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("houses", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


NOTES = "## Reading the figures"


def _write(rows: list[dict[str, object]], *, load: float) -> None:
    """The table with how it was made; the hand-written notes below it are kept."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    command = shlex.join(["python", "bench/alert_volume.py", *sys.argv[1:]])
    lines = [
        "# Slack volume of the issue-15 scenario (bench/alert_volume.py)",
        "",
        "30-window backfill of the `houses` scenario (tests/monitor/alerts/houses.py), SQLite,",
        "fake Slack. Posts = parent messages + thread replies (`chat.postMessage`).",
        "",
        f"Command: `{command}`; {datetime.now(UTC):%Y-%m-%d %H:%M}Z, commit {commit}"
        f" (plus uncommitted changes if any), 1-min load {load:.1f} at the end.",
        "",
        "| code | alerts | parents | thread replies | posts | edits | wall s | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['code']} | {r['alerts']} | {r['parents']} | {r['replies']} | {r['posts']} "
        f"| {r['edits']} | {r['seconds']} | {r['cpu']} |"
        for r in rows
    ]
    out = ROOT / "bench" / "results" / "alert_volume.md"
    previous = out.read_text() if out.exists() else ""
    notes = previous[previous.index(NOTES) :] if NOTES in previous else ""
    out.write_text("\n".join(lines) + "\n" + ("\n" + notes if notes else ""))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
