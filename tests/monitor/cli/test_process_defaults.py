"""`monitor` runs numpy's OpenBLAS on one thread, unless the user chose a thread count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: runs ``monitor --version`` in-process, then loads numpy as a scan would, and prints the
#: thread counts of the OpenBLAS libraries loaded
SETTINGS = """
from monitor.cli import main
try:
    main(["--version"])
except SystemExit:
    pass
import numpy
from threadpoolctl import threadpool_info
blas = {p["num_threads"] for p in threadpool_info() if p["internal_api"] == "openblas"}
print("blas:", sorted(blas))
"""


def _blas_threads(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.rsplit("blas:", 1)[1].strip()


@pytest.fixture
def env() -> dict[str, str]:
    names = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
    return {k: v for k, v in os.environ.items() if k not in names}


def test_monitor_runs_one_blas_thread(env: dict[str, str]) -> None:
    assert _blas_threads(env) == "[1]"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS runs one thread per core")
def test_a_thread_count_the_user_chose_wins(env: dict[str, str]) -> None:
    assert _blas_threads(env | {"OPENBLAS_NUM_THREADS": "2"}) == "[2]"
