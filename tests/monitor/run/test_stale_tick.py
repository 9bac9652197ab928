"""The tick's staleness judgement costs what can change, not the number of models."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import parse_config
from monitor.config.schema import Config
from monitor.run.tick import tick
from monitor.scans.staleness import Staleness
from monitor.slack.console import ConsoleNotifier
from monitor.store import Alert, Scan

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)  # a Monday
MINUTE = timedelta(minutes=1)


def fleet(names: list[str], schedule: object) -> Config:
    base = {
        "source": "logs", "table": "preds", "timestamp": "ts", "prediction": "pred",
        "features": {"numerical": ["x"]}, "reference": {"table": "ref"}, "window": "1h",
    }  # fmt: skip
    tree = {
        "state_db": "sqlite://",
        "sources": {"logs": {"url": "sqlite://"}},
        "models": [{**base, "name": name, "schedule": schedule} for name in names],
    }
    return parse_config(tree, file="test.yaml")


def scanned(sessions: sessionmaker[Session], names: list[str], end: datetime) -> None:
    with sessions() as session:
        for name in names:
            scan = Scan(
                model=name, window_start=end - timedelta(hours=1), window_end=end, reference={},
                config_hash="h", status="ok", started_at=end, finished_at=end,
            )  # fmt: skip
            session.add(scan)
        session.commit()


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def ticked(sessions: sessionmaker[Session], config: Config, now: datetime, **kw: Any) -> int:
    """The statements one tick at ``now`` sends to the state DB."""
    engine = sessions.kw["bind"]
    with counted(engine) as statements:
        tick(sessions, config=config, now=now, notifier=ConsoleNotifier(io.StringIO()), **kw)
    return len(statements)


def test_a_tick_sends_as_many_statements_for_twenty_models_as_for_two(
    sessions: sessionmaker[Session],
) -> None:
    counts = {}
    for n in (2, 20):
        names = [f"n{n}-{i}" for i in range(n)]
        config = fleet(names, {"every": "1h"})
        scanned(sessions, names, T0 - timedelta(hours=1))
        ticked(sessions, config, T0)  # each model's first judgement records its condition
        kept = Staleness()
        counts[n] = (
            ticked(sessions, config, T0 + MINUTE),  # monitor scan: every model read, none judged
            ticked(sessions, config, T0 + 2 * MINUTE, staleness=kept),  # monitor run: read them
            ticked(sessions, config, T0 + 3 * MINUTE, staleness=kept),  # nothing can change yet
            ticked(sessions, config, T0 + 4 * MINUTE, judged=[]),  # a tick judging nobody
        )
    assert counts[2] == counts[20]
    read, first, quiet, nobody = counts[20]
    assert read == first > quiet == nobody


def stale_alerts(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        rows = session.execute(select(Alert.model, Alert.severity).where(Alert.check_id == "stale"))
        return sorted((m, s) for m, s in rows)


def test_a_model_left_unread_between_ticks_still_goes_stale_on_the_tick_it_would_have(
    sessions: sessionmaker[Session],
) -> None:
    # Hourly: stale once more than two hours passed since the latest window end (12:00).
    config = fleet(["hourly"], {"every": "1h"})
    scanned(sessions, ["hourly"], T0)
    kept = Staleness()
    now = T0
    while not stale_alerts(sessions):
        now += timedelta(minutes=7)
        assert now < T0 + timedelta(hours=3)
        ticked(sessions, config, now, staleness=kept)
    assert now == T0 + timedelta(minutes=126)  # the first tick past 14:00
    assert stale_alerts(sessions) == [("hourly", "warning")]


def test_a_weekday_cron_model_scanned_friday_is_stale_on_monday_morning_not_before(
    sessions: sessionmaker[Session],
) -> None:
    # 09:00 on weekdays: on Friday the next window is 72 h away, so Friday's scan keeps the
    # model fresh all weekend; from Monday 09:00 the step is 24 h and the gap of 72 h is late.
    config = fleet(["weekdays"], "0 9 * * 1-5")
    friday = datetime(2026, 3, 6, 9, tzinfo=UTC)
    scanned(sessions, ["weekdays"], friday)
    kept = Staleness()
    now = friday
    while not stale_alerts(sessions):
        now += timedelta(minutes=30)
        assert now < friday + timedelta(days=7)
        ticked(sessions, config, now, staleness=kept)
    assert now == friday + timedelta(days=3)  # Monday 09:00
    # three steps late exactly: still a warning (critical once more than three)
    assert stale_alerts(sessions) == [("weekdays", "warning")]


def test_a_stale_model_kept_by_a_running_service_recovers_at_the_tick_after_its_scan(
    sessions: sessionmaker[Session],
) -> None:
    config = fleet(["hourly", "other"], {"every": "1h"})
    scanned(sessions, ["hourly", "other"], T0)
    kept = Staleness()
    ticked(sessions, config, T0 + timedelta(hours=3), staleness=kept)
    assert stale_alerts(sessions) == [("hourly", "warning"), ("other", "warning")]
    scanned(sessions, ["hourly"], T0 + timedelta(hours=3))  # no forget(): read all the same
    ticked(sessions, config, T0 + timedelta(hours=3) + MINUTE, staleness=kept)
    with sessions() as session:
        states = dict(
            session.execute(select(Alert.model, Alert.state).where(Alert.check_id == "stale")).all()
        )
    assert states == {"hourly": "recovered", "other": "firing"}
