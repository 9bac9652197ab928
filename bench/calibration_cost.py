"""Benchmark: the one-off cost of learning one column's calibrated threshold (cached per
reference fingerprint and live-size bucket), before and after issue 14's last round.

    python bench/calibration_cost.py

Before: KS, 1,000 draws over every distinct reference value. After: the default (Anderson-
Darling, 4,000 draws over at most 2,000 equal-count groups). Also KS at 4,000 draws and AD over
every value, to show where the time goes. 100k-row normal reference, 8 columns (1% per scan),
seeded. CPU seconds (process time) beside wall seconds, in one run.
"""

from __future__ import annotations

import os
import time

import numpy as np

from checks.drift.calibrated import calibrate_column

CASES = [
    ("before: ks, 1,000 draws", {"statistic": "ks", "draws": 1000}),
    ("ks, 4,000 draws", {"statistic": "ks", "draws": 4000}),
    ("ad, 4,000 draws, every value", {"statistic": "ad", "draws": 4000, "support": None}),
    ("after: ad, 4,000 draws, 2,000 groups (default)", {}),
]


def main() -> None:
    reference = np.random.default_rng(20261202).normal(size=100_000)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| calibration (100k reference) | live rows | CPU s | wall s | threshold |")
    print("|---|---|---|---|---|")
    for live in (1000, 100_000):
        for label, kw in CASES:
            cpu, wall = time.process_time(), time.perf_counter()
            cal = calibrate_column(reference, column="x", column_type="numerical",
                                   live_rows=live, columns=8, **kw)  # type: ignore[arg-type]  # fmt: skip
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(
                f"| {label} | {live:,} | {cpu:.1f} | {wall:.1f} | {cal.threshold:.4g} |", flush=True
            )


if __name__ == "__main__":
    main()
