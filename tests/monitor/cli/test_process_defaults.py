"""`monitor` sets its numerical libraries' process settings before they load, unless the user
set them: Arrow's buffers from the system allocator, one OpenBLAS thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: runs ``monitor --version`` in-process, then loads numpy and pyarrow as a scan would, and
#: prints what they run with
SETTINGS = """
import json
from monitor.cli import main
try:
    main(["--version"])
except SystemExit:
    pass
import numpy, pyarrow
from threadpoolctl import threadpool_info
blas = [p["num_threads"] for p in threadpool_info() if p["internal_api"] == "openblas"]
print("settings:", json.dumps({"pool": pyarrow.default_memory_pool().backend_name, "blas": blas}))
"""


def _settings(env: dict[str, str]) -> tuple[str, set[int]]:
    """Arrow's memory pool and the thread counts of the OpenBLAS libraries loaded."""
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    settings = json.loads(done.stdout.rsplit("settings:", 1)[1])
    assert settings["blas"], "numpy's OpenBLAS was not found"
    return str(settings["pool"]), set(settings["blas"])


@pytest.fixture
def env() -> dict[str, str]:
    names = ("ARROW_DEFAULT_MEMORY_POOL", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
    return {k: v for k, v in os.environ.items() if k not in names}


def test_monitor_runs_arrow_on_the_system_allocator_and_one_blas_thread(
    env: dict[str, str],
) -> None:
    assert _settings(env) == ("system", {1})


def test_settings_the_user_made_win(env: dict[str, str]) -> None:
    env |= {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc", "OPENBLAS_NUM_THREADS": "2"}
    assert _settings(env) == ("mimalloc", {2})
