"""A bounded load of the real server on loopback: reads and acks while scans run, no errors,
no lost or doubled acknowledgement. Figures at full size: bench/api_load.py, docs/operations.md."""

from __future__ import annotations

import time
from pathlib import Path

from bench.api_load import load_config, lost_acknowledgements, prepare, run_load, serve

# A hang guard, not a speed claim (bench/api_load.py measures speed): about 10 s on an idle
# machine, 65 s at load 10 on 2 cores; a hang would never end.
TIME_BOUND_S = 900


def test_concurrent_reads_and_acks_during_scans_lose_nothing(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "logs.db"
    source.touch()
    config = load_config(db_url, f"sqlite:///{source}", models=4)
    started = time.monotonic()
    prepare(config)
    with serve(config) as base_url:
        result = run_load(config, base_url, workers=3, steps=40)
    assert result.errors == []
    assert len(result.assigned) == 8  # two failing checks per model
    assert lost_acknowledgements(config, result) == []
    assert result.scans > 0 and result.requests >= 3 * 40 + 8
    assert time.monotonic() - started < TIME_BOUND_S
