"""Benchmark: what counting the timestamp spellings of a window costs on SQLite.

    python bench/text_times.py                    # 10 days x 200,000 rows, one day read
    python bench/text_times.py --per-day 50000

SQLite stores times as text; since issue 12 a window over text times first counts the
spellings it holds (monitor/sources/spellings.py), then reads the rows. Here the same window
is read by ``ModelLog.rows`` (census + read) and its census alone is timed, on a table
without and with an index on the timestamp, alternating, in one run. Results to stdout and
bench/results/text_times.md.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 10


def build(path: Path, per_day: int, *, index: bool) -> None:
    rng = np.random.default_rng(0)
    n = per_day * DAYS
    seconds = np.sort(rng.integers(0, DAYS * 86400, n))
    base = np.datetime64("2026-01-01T00:00:00")
    stamps = np.datetime_as_string(base + seconds.astype("timedelta64[s]"), unit="s")
    times = np.char.replace(stamps, "T", " ")  # one spelling, as str(datetime) writes it
    rows = zip(
        times.tolist(),
        rng.normal(40, 10, n).tolist(),
        rng.normal(5e4, 8e3, n).tolist(),
        rng.choice(["basic", "plus", "pro"], n).tolist(),
        (rng.random(n) < 0.5).astype(int).tolist(),
        strict=True,
    )
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE preds (ts TEXT, age REAL, income REAL, plan TEXT, pred INT)")
        conn.executemany("INSERT INTO preds VALUES (?, ?, ?, ?, ?)", rows)
        if index:
            conn.execute("CREATE INDEX preds_ts ON preds (ts)")


def timed(path: Path, rounds: int) -> dict[str, list[float]]:
    from monitor.config import parse_config
    from monitor.sources import ModelLog, SourceEngines, spellings
    from monitor.windows import Window

    url = f"sqlite:///{path}"
    model = {
        "name": "bench",
        "source": "logs",
        "table": "preds",
        "timestamp": "ts",
        "features": {"numerical": ["age", "income"], "categorical": ["plan"]},
        "prediction": "pred",
        "reference": {"previous": "1d"},
    }
    config = parse_config({"sources": {"logs": {"url": url}}, "models": [model]}, file="b")
    window = Window(START + timedelta(days=5), START + timedelta(days=6))
    out: dict[str, list[float]] = {"read (census + rows)": [], "census alone": []}
    for _ in range(rounds):
        with SourceEngines(config.sources) as engines:
            log = ModelLog(config.model("bench"), engines)
            log.prepare()
            begin = time.perf_counter()
            frame = log.rows(window, ["age", "income", "plan", "pred"], with_target=False)
            out["read (census + rows)"].append(time.perf_counter() - begin)
            assert len(frame) > 0
            census = spellings.census(
                log.timestamp_column(),
                log.relation.selectable,
                window,
                log.timestamp_sample(),
                "UTC",
            )
            begin = time.perf_counter()
            log.all(census)
            out["census alone"].append(time.perf_counter() - begin)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lines = [
        f"SQLite, {DAYS} days x {args.per_day:,} rows, text times; one day read; "
        f"median of {args.rounds} rounds.",
        "",
        "| timestamp index | read: census + rows (s) | census alone (s) | census share |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for index in (False, True):
            path = Path(folder) / f"logs-{index}.db"
            build(path, args.per_day, index=index)
            runs = timed(path, args.rounds)
            read = statistics.median(runs["read (census + rows)"])
            census = statistics.median(runs["census alone"])
            lines.append(
                f"| {'yes' if index else 'no'} | {read:.2f} | {census:.2f} | {census / read:.0%} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "text_times.md").write_text(text)


if __name__ == "__main__":
    main()
