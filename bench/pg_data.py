"""Benchmark prediction logs in PostgreSQL, loaded once with COPY and reused.

    python bench/pg_data.py --live 1000000        # the reference table and one live table

``bench_reference`` holds 1,000,000 reference rows; ``bench_live_<n>`` holds ``n`` live rows
spread over 2026-01-02 (UTC) with drift in 6 numerical and 2 categorical features (the same
generator as bench/drift_vs_evidently.py). Columns: ts, n00..n19, c0..c4, pred, score,
label, latency_ms. Tables that exist with the expected row count are kept.
"""

from __future__ import annotations

import argparse
import io
import os
from typing import Any

from drift_vs_evidently import CATEGORICAL, DRIFTED_CATEGORICAL, DRIFTED_NUMERICAL, NUMERICAL

# BENCH_DATABASE: another name, so that people benchmarking at once do not share tables
DATABASE = os.environ.get("BENCH_DATABASE", "bench_monitor")
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
REFERENCE_ROWS = 1_000_000
REFERENCE_DAY, LIVE_DAY = "2026-01-01", "2026-01-02"
CHUNK = 500_000


def url(driver: str = "postgresql+psycopg") -> str:
    return f"{ADMIN_URL.replace('postgresql', driver, 1)}/{DATABASE}"


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(f"{ADMIN_URL}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')  # a constant name, not input


def ensure_table(table: str, rows: int, *, drifted: bool, day: str, seed: int) -> None:
    import psycopg

    ensure_database()
    with psycopg.connect(f"{ADMIN_URL}/{DATABASE}") as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if exists and exists[0] is not None:
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            if count and count[0] == rows:
                return
            conn.execute(f"DROP TABLE {table}")
        conn.execute(f"CREATE TABLE {table} ({_columns()})")
        for start in range(0, rows, CHUNK):
            _copy_chunk(conn, table, min(CHUNK, rows - start), start, rows, drifted, day, seed)
        conn.execute(f"CREATE INDEX ON {table} (ts)")
        conn.commit()
        conn.execute(f"ANALYZE {table}")
        conn.commit()


def _columns() -> str:
    parts = ["ts timestamptz NOT NULL"]
    parts += [f"{n} double precision" for n in NUMERICAL]
    parts += [f"{c} text" for c in CATEGORICAL]
    parts += ["pred integer", "score double precision", "label integer", "latency_ms real"]
    return ", ".join(parts)


def _copy_chunk(
    conn: Any, table: str, n: int, start: int, total: int, drifted: bool, day: str, seed: int
) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng([seed, start])
    offsets = (np.arange(start, start + n) * (86_400_000_000 // total)).astype("timedelta64[us]")
    columns: dict[str, Any] = {"ts": pa.array(np.datetime64(day, "us") + offsets)}
    for i, name in enumerate(NUMERICAL):
        shift = DRIFTED_NUMERICAL.get(name, 0.0) if drifted else 0.0
        scale = 1.0 + i % 4
        columns[name] = rng.normal(10 * i + shift * scale, scale, n)
    for i, name in enumerate(CATEGORICAL):
        levels = np.array([f"{name}_level{k}" for k in range(3 + 2 * i)])
        weights = np.linspace(1.0, 2.0, len(levels))
        if drifted and name in DRIFTED_CATEGORICAL:
            weights = weights[::-1] ** 2
        columns[name] = levels[rng.choice(len(levels), n, p=weights / weights.sum())]
    score = rng.uniform(0, 1, n)
    columns["pred"] = (score >= 0.5).astype(np.int32)
    columns["score"] = score
    good = 0.8 if drifted else 0.9
    columns["label"] = np.where(rng.random(n) < good, score >= 0.5, score < 0.5).astype(np.int32)
    columns["latency_ms"] = rng.lognormal(3, 0.4, n).astype(np.float32)
    buffer = io.BytesIO()
    options = pacsv.WriteOptions(include_header=False)
    pacsv.write_csv(pa.table(columns), buffer, write_options=options)
    with conn.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def reference_table(rows: int = REFERENCE_ROWS) -> str:
    return "bench_reference" if rows == REFERENCE_ROWS else f"bench_reference_{rows}"


def ensure(live_rows: int, reference_rows: int = REFERENCE_ROWS) -> str:
    """The live table for ``live_rows`` (and the reference table), loaded if missing."""
    ensure_table(
        reference_table(reference_rows), reference_rows, drifted=False, day=REFERENCE_DAY, seed=1
    )
    table = f"bench_live_{live_rows}"
    ensure_table(table, live_rows, drifted=True, day=LIVE_DAY, seed=2)
    return table


def ensure_log(live_table: str, reference_rows: int = REFERENCE_ROWS) -> str:
    """One log holding the reference day and the live day (a UNION ALL view of the two
    tables), for the ``between`` and ``previous`` reference forms."""
    import psycopg

    view = f"{live_table.replace('live', 'log')}_{reference_rows}"
    with psycopg.connect(f"{ADMIN_URL}/{DATABASE}") as conn:
        conn.execute(
            f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {reference_table(reference_rows)} "
            f"UNION ALL SELECT * FROM {live_table}"
        )
        conn.commit()
    return view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--live", type=int, nargs="+", default=[REFERENCE_ROWS])
    for rows in parser.parse_args().live:
        print(ensure(rows), flush=True)


if __name__ == "__main__":
    main()
