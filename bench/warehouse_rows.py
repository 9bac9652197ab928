"""The same prediction log generated inside Spark SQL, PostgreSQL or DuckDB, with no data sent.

Every value is integer arithmetic on the row index (Lehmer-style ``i * a mod (2^31 - 1)``
hashes) and IEEE divisions of exact integers, so each engine stores bit-identical rows:
a scan of the same window may be compared across engines. One ``INSERT ... SELECT ... FROM
range(n)`` statement loads them (row-by-row inserts cost ~0.6 s a row through PyHive).

Rows ``0 .. reference - 1`` fall on 2026-03-01 (the reference day of
``tests.monitor.scancore.conftest.model_dict``), the ``live`` rows after them on 2026-03-02
with ``age`` shifted by +4. Columns as ``log_frame``: id, ts, age (1 null in 17), income,
plan (1 null in 23), region, score, pred, label (1 null in 5), latency_ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
_PRIME = 2147483647
_MULTIPLIERS = (48271, 16807, 69621, 39373, 950706376, 742938285, 1583458089)


@dataclass(frozen=True)
class _Spelling:
    """How one engine says the few things SQL engines say differently."""

    double: str
    text: str
    series: str  # FROM clause giving a BIGINT column ``i`` = 0 .. n - 1
    idiv: str  # integer division of {a} by {b}
    day_second: str  # a TIMESTAMP: midnight of day {day} (0 = 2026-03-01) + {s} seconds


_SPELLINGS = {
    "hive": _Spelling(
        double="DOUBLE",
        text="STRING",
        series="(SELECT id AS i FROM range({n})) g",
        idiv="(({a}) div ({b}))",
        day_second=f"timestamp_seconds({int(DAY0.timestamp())} + {{day}} * 86400 + ({{s}}))",
    ),
    "postgresql": _Spelling(
        double="DOUBLE PRECISION",
        text="VARCHAR",
        series="(SELECT generate_series(0::bigint, {n} - 1) AS i) g",
        idiv="(({a}) / ({b}))",
        day_second="(TIMESTAMP '2026-03-01 00:00:00' + make_interval(days => {day}, secs => {s}))",
    ),
    "duckdb": _Spelling(
        double="DOUBLE",
        text="VARCHAR",
        series="(SELECT range AS i FROM range({n})) g",
        idiv="(({a}) // ({b}))",
        day_second="(TIMESTAMP '2026-03-01 00:00:00' + to_days({day}) + to_seconds({s}))",
    ),
}

ENGINES = tuple(_SPELLINGS)


def load_statements(engine: str, *, reference: int, live: int, table: str = "preds") -> list[str]:
    """``CREATE TABLE`` and one ``INSERT ... SELECT`` for ``engine`` (a dialect name)."""
    sp = _SPELLINGS[engine]
    n = reference + live
    h = [f"(((i + 1) * {a}) % {_PRIME})" for a in _MULTIPLIERS]
    is_live = f"(i >= {reference})"
    seconds_ref = sp.idiv.format(a="i * 86400", b=reference)
    seconds_live = sp.idiv.format(a=f"(i - {reference}) * 86400", b=live)
    ts = (
        f"CASE WHEN {is_live} THEN {sp.day_second.format(day=1, s=seconds_live)} "
        f"ELSE {sp.day_second.format(day=0, s=seconds_ref)} END"
    )
    pred = f"CASE WHEN {h[4]} % 10000 >= 5000 THEN 1 ELSE 0 END"
    plan = (
        f"CASE WHEN i % 23 = 0 THEN NULL WHEN {h[2]} % 3 = 0 THEN 'basic' "
        f"WHEN {h[2]} % 3 = 1 THEN 'plus' ELSE 'pro' END"
    )
    columns = {
        "id": ("BIGINT", "i + 1"),
        "ts": ("TIMESTAMP", ts),
        "age": (
            sp.double,
            f"CASE WHEN i % 17 = 0 THEN NULL ELSE CAST({h[0]} % 4001 AS {sp.double}) / 100 + 20 "
            f"+ CASE WHEN {is_live} THEN 4 ELSE 0 END END",
        ),
        "income": (sp.double, f"CAST(30000 + {h[1]} % 40001 AS {sp.double})"),
        "plan": (sp.text, plan),
        "region": (sp.text, f"CASE WHEN {h[3]} % 10 < 7 THEN 'north' ELSE 'south' END"),
        "score": (sp.double, f"CAST({h[4]} % 10000 AS {sp.double}) / 10000"),
        "pred": ("INT", pred),
        "label": (
            "INT",
            f"CASE WHEN i % 5 = 0 THEN NULL WHEN {h[5]} % 100 < 85 THEN {pred} "
            f"ELSE 1 - ({pred}) END",
        ),
        "latency_ms": (sp.double, f"CAST(200 + {h[6]} % 3000 AS {sp.double}) / 10"),
    }
    create = f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, (t, _) in columns.items())})"
    chosen = ", ".join(f"CAST({expr} AS {t})" for t, expr in columns.values())
    insert = f"INSERT INTO {table} SELECT {chosen} FROM {sp.series.format(n=n)}"
    return [create, insert]


def frame(*, reference: int, live: int) -> pd.DataFrame:
    """The same rows computed by numpy: an oracle for what the engines store."""
    import numpy as np
    import pandas as pd

    n = reference + live
    i = np.arange(n, dtype=np.int64)
    h = [((i + 1) * a) % _PRIME for a in _MULTIPLIERS]
    is_live = i >= reference
    seconds = np.where(is_live, (i - reference) * 86400 // live, i * 86400 // reference)
    start = pd.Timestamp(DAY0.replace(tzinfo=None))
    ts = start + pd.to_timedelta(np.where(is_live, 86400, 0) + seconds, unit="s")
    age = (h[0] % 4001).astype(float) / 100 + 20 + np.where(is_live, 4, 0)
    pred = (h[4] % 10000 >= 5000).astype(np.int64)
    label = np.where(h[5] % 100 < 85, pred, 1 - pred).astype(float)
    plan = np.array(["basic", "plus", "pro"], dtype=object)[h[2] % 3]
    plan[i % 23 == 0] = None
    return pd.DataFrame(
        {
            "id": i + 1,
            "ts": ts,
            "age": np.where(i % 17 == 0, np.nan, age),
            "income": (30000 + h[1] % 40001).astype(float),
            "plan": plan,
            "region": np.where(h[3] % 10 < 7, "north", "south"),
            "score": (h[4] % 10000).astype(float) / 10000,
            "pred": pred,
            "label": np.where(i % 5 == 0, np.nan, label),
            "latency_ms": (200 + h[6] % 3000).astype(float) / 10,
        }
    )
