"""`monitor run` serves /healthz before it loads the scan side.

pandas, scipy, pyarrow and numpy (and the notifiers' SDKs) cost seconds of start-up on a busy
machine and only a scan needs them, so the process listens first and imports them after. The
check reads the order of ``python -X importtime`` lines and log lines on stderr (both written
as they happen, by one process), not a clock, so it cannot flake on a loaded machine.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

from bench.run_startup import write_fixture
from tests.waiting import PATIENCE, wait_for

SCAN_SIDE = ("numpy", "pandas", "scipy", "pyarrow", "evidently", "slack_sdk")


def _message(line: str) -> str | None:
    return json.loads(line).get("message") if line.startswith("{") else None


def _root(line: str) -> str | None:
    found = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", line)
    return found[1].split(".")[0] if found else None


def test_monitor_run_listens_before_it_imports_pandas_and_scipy(tmp_path: Path) -> None:
    config = write_fixture(tmp_path)
    stderr = tmp_path / "stderr"
    command = [sys.executable, "-X", "importtime", "-m", "monitor", "run", "-c", str(config)]
    with stderr.open("w") as err:
        proc = subprocess.Popen([*command, "--port", "0"], stdout=subprocess.DEVNULL, stderr=err)
    try:

        def started() -> bool:
            assert proc.poll() is None, stderr.read_text()[-3000:]
            return '"message": "started"' in stderr.read_text()

        wait_for("the started line", started, timeout=PATIENCE)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(PATIENCE)
    lines = stderr.read_text().splitlines()
    messages = [_message(line) for line in lines]
    listening, ready = messages.index("listening"), messages.index("started")
    before = {_root(line) for line in lines[:listening]}
    between = {_root(line) for line in lines[listening:ready]}
    assert not before & set(SCAN_SIDE), f"imported before listening: {before & set(SCAN_SIDE)}"
    # ... and the scan side is loaded before the scheduler starts (the first scan is not late)
    assert {"pandas", "scipy"} <= between
