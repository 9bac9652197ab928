"""The baseline teams write today: ``pandas.read_sql`` of both windows, then Evidently.

    python bench/sql_baseline.py URL REFERENCE LIVE_TABLE START END

Reads the feature columns of the reference and of the live table's rows with
``START <= ts < END`` through a SQLAlchemy engine, runs Evidently's DataDriftPreset on them
and prints the same JSON as bench/evidently_baseline.py. REFERENCE is a table (read whole),
``period:TABLE,START,END`` (its rows with ``START <= ts < END``) or ``file:PATH`` (Parquet).
Run as its own process by bench/scan_vs_baseline.py, so its wall time and peak memory include
imports and reads.
"""

from __future__ import annotations

import argparse
import json

from drift_vs_evidently import CATEGORICAL, NUMERICAL
from evidently_baseline import drift_preset


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("url", "reference_table", "live_table", "start", "end"):
        parser.add_argument(name)
    args = parser.parse_args()

    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(args.url)
    columns = [*NUMERICAL, *CATEGORICAL]
    ref_table = sa.table(args.reference_table, *[sa.column(c) for c in columns])
    live_table = sa.table(args.live_table, sa.column("ts"), *[sa.column(c) for c in columns])
    ts = live_table.c.ts
    live_query = sa.select(*[live_table.c[c] for c in columns]).where(
        ts >= sa.bindparam("start"), ts < sa.bindparam("end")
    )
    with engine.connect() as conn:
        if args.reference_table.startswith("file:"):
            reference = pd.read_parquet(args.reference_table[5:], columns=columns)
        elif args.reference_table.startswith("period:"):
            name, start, end = args.reference_table[7:].split(",")
            period = sa.table(name, sa.column("ts"), *[sa.column(c) for c in columns])
            query = sa.select(*[period.c[c] for c in columns]).where(
                period.c.ts >= sa.bindparam("start"), period.c.ts < sa.bindparam("end")
            )
            reference = pd.read_sql(query, conn, params={"start": start, "end": end})
        else:
            reference = pd.read_sql(sa.select(*ref_table.c), conn)
        current = pd.read_sql(live_query, conn, params={"start": args.start, "end": args.end})
    print(json.dumps(drift_preset(reference, current, NUMERICAL, CATEGORICAL)))


if __name__ == "__main__":
    main()
