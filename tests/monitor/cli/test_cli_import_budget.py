"""The commands a person on call runs load no statistics or web stack.

``monitor status``, ``monitor alerts``, ``monitor alerts show`` and ``monitor ack`` read the state
DB and print; numpy, pandas, scipy, Evidently, FastAPI and the Slack SDK cost seconds of start-up on
a busy machine and are not needed for that. They run on SQLAlchemy Core, without the ORM
(``sqlalchemy.orm`` and our mapped classes, ~0.1 s): ``ack`` writes its rows through Core too. The
check reads ``python -X importtime`` (which modules were imported, and how many), not a clock, so it
cannot flake on a loaded machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "numpy",
    "pandas",
    "scipy",
    "evidently",
    "fastapi",
    "slack_sdk",
    "sklearn",
    "pyarrow",
    "psycopg",  # the config names SQLite only
)
#: modules a command may import in all (Python's own included): 452-465 on 3 December 2026, after
#: `ack` moved to Core (452-510 before, when it loaded the ORM and its mapped classes; 486-526 on
#: 2 December, before the reads moved to Core), of which ~300 are SQLAlchemy's and the interpreter's
#: floor; a new heavy dependency (numpy alone ~145, pandas ~600, alembic ~50, the ORM ~45, the
#: PostgreSQL dialect ~19) shows here even under a name the list above does not know
MODULE_BUDGET = 480
#: SQLAlchemy's dialects that a SQLite state DB does not need (20-70 ms of start-up for PostgreSQL)
OTHER_DIALECTS = ("sqlalchemy.dialects.postgresql",)

CONFIG = """\
state_db: "sqlite:///{state}"
sources:
  logs: {{url: "sqlite:///{logs}"}}
models:
  - name: churn
    source: logs
    table: predictions
    timestamp: ts
    features:
      numerical: [age]
      categorical: [plan]
    prediction: pred
    target: {{table: labels, key: id, column: label}}
    task: binary_classification
    reference: {{between: ["2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z"]}}
    window: 1d
    checks:
      drift:
        method: ks
        per_column:
          plan: {{method: chisquare_2s}}
      thresholds:
        - {{metric: accuracy, min: 0.8}}
        - {{metric: row_count, min: 10}}
"""


def _imported(args: list[str], cwd: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "monitor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = done.stderr.splitlines()
    assert any(line.startswith("import time:") for line in lines), done.stderr[-2000:]
    names = set()
    for line in lines:
        found = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", line)
        if found:
            names.add(found[1])
    return names


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("budget")
    path = root / "monitor.yaml"
    path.write_text(CONFIG.format(state=root / "state.db", logs=root / "logs.db"), encoding="utf-8")
    upgrade = subprocess.run(
        [sys.executable, "-m", "monitor", "db", "upgrade", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--json"],
        ["alerts"],
        ["alerts", "--state", "all", "--json"],
        ["alerts", "show", "1"],
        ["ack", "1", "--by", "ana"],
    ],
    ids=" ".join,
)
def test_on_call_commands_load_no_heavy_library(args: list[str], config: Path) -> None:
    imported = _imported([*args, "-c", str(config)], config.parent)
    assert "monitor.config.schema" in imported  # the command did load its config
    heavy = sorted(name for name in imported if name.split(".")[0] in HEAVY)
    roots = sorted({name.split(".")[0] for name in heavy})
    assert not roots, f"`monitor {' '.join(args)}` imported {roots} (e.g. {heavy[:5]})"
    dialects = sorted(n for n in imported if n.startswith(OTHER_DIALECTS))
    assert not dialects, f"`monitor {' '.join(args)}` on SQLite imported {dialects[:5]}"
    assert len(imported) <= MODULE_BUDGET, (
        f"`monitor {' '.join(args)}` imported {len(imported)} modules (budget {MODULE_BUDGET})"
    )


#: the on-call commands, which need no ORM: they read, or write a transition (``ack``), on Core
WITHOUT_ORM = [
    ["status"],
    ["status", "--json"],
    ["alerts"],
    ["alerts", "--state", "all", "--json"],
    ["alerts", "show", "1"],
    ["alerts", "show", "1", "--json"],
    ["ack", "1", "--by", "ana"],
]
#: the counter-check: a writer that does load the ORM (as the test must be able to see)
WITH_ORM = ["silence", "churn", "--for", "1h", "--by", "ana", "--reason", "deploy"]


@pytest.mark.parametrize("args", [*WITHOUT_ORM, WITH_ORM], ids=" ".join)
def test_the_on_call_commands_load_no_orm(args: list[str], db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    text = CONFIG.format(state="", logs=tmp_path / "logs.db")
    path.write_text(text.replace('"sqlite:///"', f'"{db_url}"', 1), encoding="utf-8")
    assert db_url in path.read_text(encoding="utf-8")
    upgrade = [sys.executable, "-m", "monitor", "db", "upgrade", "-c", str(path)]
    done = subprocess.run(upgrade, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    imported = _imported([*args, "-c", str(path)], tmp_path)
    assert "monitor.config.schema" in imported  # the command did load its config
    orm = sorted(n for n in imported if n == "sqlalchemy.orm" or n.startswith("monitor.store.orm"))
    if args == WITH_ORM:
        assert "sqlalchemy.orm" in orm
    else:
        assert not orm, f"`monitor {' '.join(args)}` imported {orm}"
    heavy = sorted({n.split(".")[0] for n in imported} & {"numpy", "pandas", "scipy", "pyarrow"})
    assert not heavy, f"`monitor {' '.join(args)}` imported {heavy}"


#: runs ``monitor status`` in-process with ``importlib.metadata.entry_points`` wrapped, and prints
#: the entry point groups looked up (pydantic binds the function when it is imported)
LOOKUPS = """
import importlib.metadata as md, sys
seen = []
real = md.entry_points
md.entry_points = lambda **kw: seen.append(kw.get("group")) or real(**kw)
from monitor.cli import main
try:
    main(["status", "-c", sys.argv[1]])
except SystemExit as exc:
    assert not exc.code, exc.code
print("groups:", seen)
"""


@pytest.mark.parametrize("setting", [None, ""], ids=["default", "plugins wanted"])
def test_pydantic_plugins_are_not_looked_up_unless_wanted(
    setting: str | None, config: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if setting is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = setting
    done = subprocess.run(
        [sys.executable, "-c", LOOKUPS, str(config)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    groups = done.stdout.rsplit("groups:", 1)[1]
    assert ("'pydantic'" in groups) == (setting is not None), groups


#: runs one command in-process and prints whether the cyclic collector was on while the command
#: loaded its config (every command does, through ``monitor.cli._common.load``) and after it
COLLECTOR = """
import gc, sys
import monitor.cli._common as common
seen = []
real = common.load
def load(path):
    seen.append(gc.isenabled())
    return real(path)
common.load = load
from monitor.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass  # `config check` refuses the missing logs DB after loading the config: enough here
print("during:", seen, "after:", gc.isenabled())
"""


@pytest.mark.parametrize(
    ("args", "collects"),
    [(["status"], False), (["alerts", "--state", "all"], False), (["config", "check"], True)],
    ids=["status", "alerts", "config check"],
)
def test_short_commands_run_without_the_cyclic_collector_and_restore_it(
    args: list[str], collects: bool, config: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", COLLECTOR, *args, "-c", str(config)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert f"during: [{collects}] after: True" in done.stdout, done.stderr[-2000:]


#: runs ``monitor.cli.main`` as the console script does (no argv: the process's own command
#: line) or as tests do (an argv), and prints at exit how many objects the collector left out
AT_EXIT = """
import atexit, gc, sys
from monitor.cli import main
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
own = sys.argv[1] == "own"
sys.argv = ["monitor", *sys.argv[2:]]
main(None if own else sys.argv[1:])
"""


@pytest.mark.parametrize(("how", "frozen"), [("own", True), ("given", False)])
def test_the_process_exit_skips_the_final_collection_only_when_main_owns_the_process(
    how: str, frozen: bool, config: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", AT_EXIT, how, "status", "-c", str(config)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"frozen at exit: {frozen}" in done.stdout, done.stdout[-2000:]
