"""The pure part of bench/run_startup.py: reading ``python -X importtime`` output."""

from __future__ import annotations

from bench.run_startup import ImportCost, by_package, parse_importtime

# As CPython 3.11 writes it: a header, then one line per module, nesting shown by indentation.
STDERR = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:       300 |        300 |       numpy._core.multiarray
import time:      1500 |       1800 |     numpy._core
import time:       700 |       2500 |   numpy
{"time": "2026-12-01T22:00:00Z", "level": "info", "message": "started"}
import time:        40 |         40 |     pandas._libs
import time:      2000 |       2040 |   pandas
import time:        10 |         10 | monitor
"""


def test_importtime_lines_give_each_modules_self_time_and_skip_everything_else() -> None:
    modules = parse_importtime(STDERR.splitlines())
    assert modules == {
        "_io": 120,
        "numpy._core.multiarray": 300,
        "numpy._core": 1500,
        "numpy": 700,
        "pandas._libs": 40,
        "pandas": 2000,
        "monitor": 10,
    }


def test_self_times_add_up_per_top_level_package_largest_first() -> None:
    costs = by_package(parse_importtime(STDERR.splitlines()))
    assert costs == [
        ImportCost("numpy", 2500, 3),
        ImportCost("pandas", 2040, 2),
        ImportCost("_io", 120, 1),
        ImportCost("monitor", 10, 1),
    ]
