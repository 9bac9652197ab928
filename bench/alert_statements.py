"""State-DB statements, ORM flushes and CPU of one scan's alert evaluation (``evaluate_scan``).

    python bench/alert_statements.py                       # in-memory SQLite
    python bench/alert_statements.py postgresql+psycopg://...

One model, 12 conditions a scan: six whole-window checks and two checks over three segments
(whole window, a, b), evaluated as a scan does, one transaction per window: the first scan
(the condition rows created), 200 steady passing scans, the scan that raises one alert, 20
scans keeping it firing and 20 recovering it. Counts come from SQLAlchemy events
(``before_cursor_execute``, ``before_flush``); CPU is ``time.process_time``. The database's
tables are dropped and created again: give it a scratch database.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from monitor.alerts.conditions import CheckSignal
from monitor.alerts.evaluate import evaluate_scan
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.store import Base, make_sessionmaker

T0 = datetime(2026, 11, 24, tzinfo=UTC)
COUNTS = {"statements": 0, "flushes": 0}


def _statement(*_: Any) -> None:
    COUNTS["statements"] += 1


def _flush(*_: Any) -> None:
    COUNTS["flushes"] += 1


def signals(failing: bool) -> list[CheckSignal]:
    out = [
        CheckSignal(f"c{i}", not (failing and i == 0), "warning", 0.5, 0.8, None, f"c{i}")
        for i in range(6)
    ]
    for i in range(2):
        for segment in (None, "a", "b"):
            out.append(CheckSignal(f"d{i}", True, "warning", 0.1, 0.2, segment, f"d{i}"))
    return out


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "sqlite://"
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    event.listen(engine, "before_cursor_execute", _statement)
    event.listen(Session, "before_flush", _flush)
    hour = 0
    print("| scans | statements per scan | flushes per scan | CPU per scan (ms) |")
    print("|---|---|---|---|")
    for name, scans, failing in [
        ("first", 1, False),
        ("steady, passing", 200, False),
        ("raising one alert", 1, True),
        ("keeping it firing", 20, True),
        ("recovering it", 20, False),
    ]:
        before = dict(COUNTS)
        cpu = time.process_time()
        for _ in range(scans):
            with sessions() as session:
                evaluate_scan(
                    session=session,
                    model="m",
                    window_end=T0 + timedelta(hours=hour),
                    signals=signals(failing),
                    policy=AlertPolicy(),
                    routing=Routing(),
                    now=T0,
                )
                session.commit()
            hour += 1
        cpu = (time.process_time() - cpu) / scans * 1000
        statements = (COUNTS["statements"] - before["statements"]) / scans
        flushes = (COUNTS["flushes"] - before["flushes"]) / scans
        print(f"| {name} ({scans}) | {statements:.1f} | {flushes:.1f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
