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


#: runs ``main(argv)`` in-process, then frees a 5 MB buffer and makes another of that size, and
#: prints how many more buffers glibc then holds in mappings of their own
#: (``mallinfo2().hblks``). glibc's default threshold rises to the freed buffer's size, so the
#: second comes from the heap (0); with the threshold fixed below 5 MB it is mapped (1).
MAPPED = """
import ctypes, json, sys
import numpy as np
from monitor.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit:
    pass
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
first = np.ones(5 << 17)  # 5 MB
del first
before = libc.mallinfo2().hblks
second = np.ones(5 << 17)
print("mapped:", libc.mallinfo2().hblks - before)
"""


def _mapped(argv: list[str], env: dict[str, str]) -> int:
    done = subprocess.run(
        [sys.executable, "-c", MAPPED, json.dumps(argv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.rsplit("mapped:", 1)[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_commands_that_read_data_map_large_buffers_of_their_own(env: dict[str, str]) -> None:
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    assert _mapped(["scan", "--help"], env) == 1
    # the short commands leave glibc as it is: the experiment tells the two apart
    assert _mapped(["status", "--help"], env) == 0
    # as does a threshold the user chose
    assert _mapped(["scan", "--help"], env | {"MALLOC_MMAP_THRESHOLD_": str(32 << 20)}) == 0
