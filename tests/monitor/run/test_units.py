"""The units `monitor run` is built from: leases, due windows, retention, triggers, logs."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import parse_config
from monitor.config.schema import Config
from monitor.run import leases
from monitor.run.logs import setup_logging
from monitor.run.retention import prune_scans
from monitor.run.scheduler import trigger_for
from monitor.run.service import due_windows
from monitor.store import Alert, CheckResult, Lease, Scan
from tests.waiting import wait_for

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def config(schedule: object = None) -> Config:
    """One small model ``m`` on an hourly window, scheduled every 15 minutes by default."""
    tree = {
        "state_db": "sqlite://",
        "sources": {"logs": {"url": "sqlite://"}},
        "models": [
            {
                "name": "m",
                "source": "logs",
                "table": "preds",
                "timestamp": "ts",
                "features": {"numerical": ["x"]},
                "prediction": "pred",
                "reference": {"table": "ref"},
                "window": "1h",
                "schedule": schedule or {"every": "15m"},
            }
        ],
    }
    return parse_config(tree, file="test.yaml")


def model(schedule: object = None) -> object:
    return config(schedule).models[0]


def add_scan(session: Session, end: datetime, status: str = "ok") -> Scan:
    scan = Scan(
        model="m", window_start=end - timedelta(hours=1), window_end=end, reference={},
        config_hash="h", status=status, started_at=end, finished_at=end,
    )  # fmt: skip
    scan.results.append(CheckResult(check="row_count", method="row_count", details={}))
    session.add(scan)
    session.commit()
    return scan


def test_a_lease_is_exclusive_until_it_expires_then_another_holder_takes_it(
    sessions: sessionmaker[Session],
) -> None:
    # Long enough that no busy machine lets it expire between these calls.
    ttl = timedelta(seconds=60)
    assert leases.acquire(sessions, "scan:m", holder="a", ttl=ttl)
    assert not leases.acquire(sessions, "scan:m", holder="b", ttl=ttl)
    short = timedelta(seconds=0.5)
    assert leases.acquire(sessions, "scan:m", holder="a", ttl=short)  # the holder may extend
    time.sleep(0.6)  # sleeps at least this long: the lease has expired after it
    assert leases.acquire(sessions, "scan:m", holder="b", ttl=ttl)
    assert not leases.renew(sessions, "scan:m", holder="a", ttl=ttl)  # a lost it


def lease_expiry(sessions: sessionmaker[Session]) -> datetime:
    with sessions() as session:
        return session.get_one(Lease, "scan:m").expires_at


def test_a_held_lease_is_renewed_while_the_work_runs_and_released_after(
    sessions: sessionmaker[Session],
) -> None:
    ttl = timedelta(seconds=3)  # renewed every second
    with leases.held(sessions, "scan:m", holder="a", ttl=ttl) as mine:
        assert mine
        first = lease_expiry(sessions)

        def renewed_lately() -> bool:  # with half its ttl left, so b's attempt comes in time
            expiry = lease_expiry(sessions)
            return expiry > first and expiry - datetime.now(UTC) > ttl / 2

        # Past the first expiry only renewal keeps others out. Waiting for a renewal (not a
        # fixed time) lets a renewal thread starved by a busy machine be late without failing.
        wait_for("the first expiry", lambda: datetime.now(UTC) > first, every=0.1)
        wait_for("a renewal", renewed_lately, every=0.05)
        assert not leases.acquire(sessions, "scan:m", holder="b", ttl=ttl)
        with leases.held(sessions, "scan:m", holder="b", ttl=ttl) as theirs:
            assert not theirs
    assert leases.live(sessions, prefix="scan:") == set()
    assert leases.acquire(sessions, "scan:m", holder="b", ttl=ttl)


def test_catch_up_scans_missed_windows_oldest_first_up_to_the_bound(
    sessions: sessionmaker[Session],
) -> None:
    m = model()
    with sessions() as session:
        assert due_windows(session, m, now=T0 + 20 * SECOND, limit=4) == [T0]  # never scanned
        add_scan(session, T0)
        now = T0 + timedelta(hours=3, minutes=7)
        expected = [T0 + timedelta(hours=2, minutes=15 * k) for k in range(1, 5)]
        assert due_windows(session, m, now=now, limit=4) == expected
        assert due_windows(session, m, now=T0 + timedelta(minutes=40), limit=4) == [
            T0 + timedelta(minutes=15),
            T0 + timedelta(minutes=30),
        ]
        assert due_windows(session, m, now=T0 + timedelta(minutes=14), limit=4) == []


def test_catch_up_follows_a_cron_schedule(sessions: sessionmaker[Session]) -> None:
    m = model("0 * * * *")
    with sessions() as session:
        add_scan(session, T0)
        ends = due_windows(session, m, now=T0 + timedelta(hours=30, minutes=5), limit=3)
    assert ends == [T0 + timedelta(hours=h) for h in (28, 29, 30)]


def test_interval_triggers_fire_on_the_epoch_grid_not_from_process_start() -> None:
    trigger = trigger_for(model({"every": "15m"}))  # type: ignore[arg-type]
    now = datetime(2026, 3, 1, 10, 7, 31, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, now)
    assert fire == datetime(2026, 3, 1, 10, 15, tzinfo=UTC)
    trigger = trigger_for(model({"every": "7m"}))  # type: ignore[arg-type]
    fire = trigger.get_next_fire_time(None, now)
    assert fire is not None and fire.timestamp() % 420 == 0 and fire > now


def test_the_start_up_run_does_not_shift_later_firings_off_the_grid() -> None:
    """APScheduler's own IntervalTrigger would fire at start + k * interval (found by
    bench/scheduler_overhead.py: every scan 6.7 s late after a start at :06.7)."""
    trigger = trigger_for(model({"every": "15m"}))  # type: ignore[arg-type]
    started = datetime(2026, 3, 1, 10, 7, 31, 250000, tzinfo=UTC)  # the start-up run
    after_start = trigger.get_next_fire_time(started, started + timedelta(milliseconds=3))
    assert after_start == datetime(2026, 3, 1, 10, 15, tzinfo=UTC)
    on_grid = trigger.get_next_fire_time(after_start, after_start + timedelta(milliseconds=2))
    assert on_grid == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    # A late wake-up (the machine slept) goes to the next grid point, not to a past one.
    late = trigger.get_next_fire_time(on_grid, on_grid + timedelta(minutes=40))
    assert late == datetime(2026, 3, 1, 11, 15, tzinfo=UTC)


def test_a_scheduled_job_runs_at_start_and_then_on_the_grid() -> None:
    from apscheduler.job import Job
    from apscheduler.schedulers.background import BackgroundScheduler

    trigger = trigger_for(model({"every": "1m"}))  # type: ignore[arg-type]
    started = datetime(2026, 3, 1, 10, 7, 31, 250000, tzinfo=UTC)
    job = Job(
        BackgroundScheduler(timezone=UTC),
        id="j",
        func=print,
        trigger=trigger,
        executor="default",
        args=(),
        kwargs={},
        name="j",
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
        next_run_time=started,
    )
    # APScheduler's own loop: the run times due by now, then the next fire time.
    now = started + timedelta(milliseconds=5)
    runs = job._get_run_times(now)
    assert runs == [started]
    assert trigger.get_next_fire_time(runs[-1], now) == datetime(2026, 3, 1, 10, 8, tzinfo=UTC)


def test_retention_prunes_old_scans_but_keeps_the_latest_and_every_alert(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        for days in (0, 1, 2, 200, 201):
            add_scan(session, T0 - timedelta(days=days))
        session.add(alert_row())
        session.commit()
    pruned = prune_scans(sessions, before=T0 - timedelta(days=180))
    assert pruned == 2
    with sessions() as session:
        ends = sorted(s.window_end for s in session.query(Scan))
        assert ends == [T0 - timedelta(days=d) for d in (2, 1, 0)]
        assert session.query(CheckResult).count() == 3
        assert session.query(Alert).count() == 1
    # A model whose only scans are old keeps its latest: catch-up and staleness start there.
    assert prune_scans(sessions, before=T0 + timedelta(days=365)) == 2
    with sessions() as session:
        assert [s.window_end for s in session.query(Scan)] == [T0]


def alert_row() -> Alert:
    return Alert(
        model="m", check_id="accuracy", segment="", state="firing", severity="warning",
        condition="failing", occurrences=1, summary="accuracy low", raised_at=T0, version=1,
    )  # fmt: skip


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield stream
    root.handlers, root.level = saved[0], saved[1]


def test_log_lines_are_json_and_never_contain_a_configured_secret(
    log_stream: io.StringIO,
) -> None:
    config = parse_config(
        {
            "state_db": "postgresql+psycopg://monitor:state-pass-9@db/monitor",
            "sources": {"logs": {"url": "postgresql+psycopg://reader:s3cret-pw@warehouse/logs"}},
            "slack": {"token": "xoxb-very-secret", "channel": "#ml"},
            "api": {"token": "api-token-42"},
        },
        file="test.yaml",
    )
    setup_logging(config, stream=log_stream)
    log = logging.getLogger("monitor.run")
    log.error(
        "connect failed", extra={"url": "postgresql+psycopg://reader:s3cret-pw@warehouse/logs"}
    )
    logging.getLogger("sqlalchemy").warning("token xoxb-very-secret and api-token-42 rejected")
    log.info("scan", extra={"model": "m", "password": "state-pass-9"})
    text = log_stream.getvalue()
    for secret in ("s3cret-pw", "xoxb-very-secret", "api-token-42", "state-pass-9"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    messages = ["connect failed", "token *** and *** rejected", "scan"]
    assert [line["message"] for line in lines] == messages
    assert lines[2]["model"] == "m" and lines[2]["level"] == "info"
