"""Several `monitor run` replicas on one PostgreSQL: each window once, each alert posted once,
the models split between replicas, and a replica killed mid-scan is taken over."""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from monitor.notifiers.words import alert_key
from monitor.run.shards import SHARDS, shard_of
from monitor.store import Alert, Lease, Notification
from monitor.windows import parse_instant
from tests.fakes.http_sink import FakeHttpSink
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.monitor.run.conftest import Replica, read_state, wait_until, write_config
from tests.monitor.run.proxy import TcpProxy
from tests.monitor.run.test_process import stored_scans
from tests.waiting import PATIENCE


@pytest.fixture
def pg_state(backend: str, db_url: str) -> str:
    if backend != "postgresql":
        pytest.skip("replicas share one PostgreSQL (SQLite is the single-process store)")
    return db_url


def logged_windows(*replicas: Replica) -> Counter[str]:
    return Counter(line["window_end"] for r in replicas for line in r.scans())


def assert_contiguous(state_db: str, step: timedelta) -> list[str]:
    ends = [s.window_end for s in stored_scans(state_db)]
    assert all(b - a == step for a, b in itertools.pairwise(ends)), ends
    return [e.isoformat().replace("+00:00", "Z") for e in ends]


def open_alerts(state_db: str) -> list[Alert]:
    return read_state(state_db, select(Alert).where(Alert.state != "resolved"))


def test_three_replicas_scan_every_window_once_and_post_each_alert_once(
    pg_state: str,
    source_db: Engine,
    proxy: TcpProxy,
    fake_slack: FakeSlack,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    pd, hook, smtp = FakeHttpSink(), FakeHttpSink(), FakeSmtp()
    with pd.running(), hook.running(), smtp.running():
        config = write_config(
            tmp_path / "m.yaml",
            state_db=pg_state,
            source=source_db,
            proxy=proxy,
            slack=fake_slack,
            # Nobody dies here: a long lease keeps a renewal thread starved by a busy machine
            # from letting a live holder's lease lapse (that takeover is the next test's subject).
            run={"lease": "60s"},
            extra=every_notifier(pd, hook, smtp),
        )
        _three_replicas_post_once(pg_state, fake_slack, replicas, config)
    # Every other notifier, on the same outbox: each first message recorded as sent reached
    # its receiver exactly once, whichever replica claimed it.
    posted = {
        channel: sorted(n.alert_id for n in rows if n.channel == channel)
        for rows in [read_state(pg_state, select(Notification).where(
            Notification.kind == "post", Notification.status == "sent"))]
        for channel in ("pagerduty:pagerduty", "webhook:webhook", "email:email")
    }  # fmt: skip
    assert posted["webhook:webhook"], "no webhook delivered: the check below would be empty"
    assert sorted(r.json()["alert"]["id"] for r in hook.received()) == posted["webhook:webhook"]
    firsts = [m for m in smtp.received() if m["In-Reply-To"] is None]
    assert len(firsts) == len(posted["email:email"])
    assert len({m["Message-ID"] for m in firsts}) == len(firsts)
    alerts = {a.id: a for a in read_state(pg_state, select(Alert))}
    keys = {r.json()["dedup_key"] for r in pd.received()}
    assert keys == {alert_key(alerts[i]) for i in posted["pagerduty:pagerduty"]}


def pending(state_db: str) -> list[Notification]:
    return read_state(state_db, select(Notification).where(Notification.status == "pending"))


def every_notifier(pd: FakeHttpSink, hook: FakeHttpSink, smtp: FakeSmtp) -> dict[str, Any]:
    """``notify:`` to Slack, PagerDuty, a webhook (raised only) and email, on loopback fakes."""
    return {
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "starttls": False, "sender": "m@ex.com"},
        "notify": [
            {"slack": "#ml"},
            {"pagerduty": {"routing_key": "PD-1", "api_url": pd.base_url}},
            {"webhook": f"{hook.base_url}/retrain", "secret": "s", "events": ["raised"]},
            {"email": {"to": ["oncall@example.com"]}},
        ],
    }


def _three_replicas_post_once(
    pg_state: str, fake_slack: FakeSlack, replicas: Callable[..., Replica], config: Path
) -> None:
    three = [replicas(config, "--no-api") for _ in range(3)]
    for replica in three:
        replica.wait_healthy()
    wait_until("eight windows", lambda: len(stored_scans(pg_state)) >= 8, watch=three)
    wait_until("the outbox drained", lambda: not pending(pg_state), watch=three)
    for replica in three:
        assert replica.stop() == 0

    stored = assert_contiguous(pg_state, timedelta(seconds=2))
    counts = logged_windows(*three)
    assert sorted(counts) == stored
    assert set(counts.values()) == {1}, counts  # no window scanned twice
    # A cold first scan on a busy machine may outlast two 2 s intervals: `stale` may fire.
    alerts = open_alerts(pg_state)
    assert [a.check_id for a in alerts if a.check_id != "stale"] == ["dataset_drift"]
    parents = [c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" not in c.params]
    assert len(parents) == len(alerts)  # one Slack message per alert, whatever the replicas
    assert len({c.params["text"] for c in parents}) == len(parents)


def test_a_replica_killed_mid_scan_is_taken_over_after_its_lease_expires(
    pg_state: str,
    source_db: Engine,
    proxy: TcpProxy,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path / "m.yaml",
        state_db=pg_state,
        source=source_db,
        proxy=proxy,
        slack=None,
        run={"catch_up": 100},  # a slow takeover on a busy machine must not skip the window
    )
    pair = [replicas(config, "--no-api") for _ in range(2)]
    for replica in pair:
        replica.wait_healthy()
    wait_until("a first scan", lambda: stored_scans(pg_state), watch=pair)
    proxy.delay = 0.4  # scans now take seconds: long enough to be killed in the middle
    holder = wait_until("a long scan under lease", lambda: steady_holder(pg_state), watch=pair)
    victim = next(r for r in pair if r.proc.pid == int(holder.split(":")[1]))
    survivor = next(r for r in pair if r is not victim)
    os.kill(victim.proc.pid, signal.SIGKILL)
    killed_at = datetime.now(UTC)
    victim.proc.wait(PATIENCE)
    # Read after the kill: the victim can store nothing more, and the survivor cannot take
    # the lease before it expires (nor finish a slowed scan), so the window after the last
    # stored one is the one the victim was scanning.
    in_progress = stored_scans(pg_state)[-1].window_end + timedelta(seconds=2)
    proxy.delay = 0.0
    in_progress_z = in_progress.isoformat().replace("+00:00", "Z")

    def survivor_scan() -> dict[str, Any] | None:
        return next((s for s in survivor.scans() if s["window_end"] == in_progress_z), None)

    taken = wait_until("the survivor to scan the killed window", survivor_scan, watch=[survivor])
    # When the survivor's scan of that window began (its log time minus the scan's duration,
    # so a scan slowed by the machine does not count): after the 3 s lease expired and within
    # a few 2 s firings of it, not after some much longer timeout (a TCP keepalive, a restart).
    takeover = parse_instant(taken["time"]) - timedelta(seconds=taken["duration_s"]) - killed_at
    assert survivor.stop() == 0
    victim.kill()

    stored = assert_contiguous(pg_state, timedelta(seconds=2))
    assert in_progress_z in stored
    assert takeover < timedelta(seconds=30), takeover
    victim_windows = {line["window_end"] for line in victim.scans()}
    assert in_progress_z not in victim_windows


def steady_holder(state_db: str) -> str | None:
    """The holder of the scan lease, if it still holds it a second later (mid-scan)."""
    first = lease_holder(state_db)
    time.sleep(1.0)
    return first if first is not None and lease_holder(state_db) == first else None


def lease_holder(state_db: str) -> str | None:
    holders = read_state(state_db, select(Lease.holder).where(Lease.name == "scan:m"))
    return holders[0] if holders else None


def straddling(count: int) -> list[str]:
    """``count`` model names, half in the low shards, half in the high ones."""
    names = [f"m{i:02d}" for i in range(100)]
    low = [n for n in names if shard_of(n) < SHARDS // 2][: count // 2]
    return sorted(low + [n for n in names if shard_of(n) >= SHARDS // 2][: count - count // 2])


def test_a_second_replica_takes_half_the_models_and_a_killed_one_is_taken_over(
    pg_state: str,
    source_db: Engine,
    proxy: TcpProxy,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    models = straddling(4)
    config = write_config(
        tmp_path / "m.yaml", state_db=pg_state, source=source_db, proxy=proxy, slack=None,
        models=models, every="6s",  # four models every 2 s would keep a busy machine behind
    )  # fmt: skip
    first = replicas(config, "--no-api")
    first.wait_healthy()
    wait_until("the first replica's scans", first.scans, watch=[first])
    # The first replica holds every shard; the second one's arrival makes it give back its
    # highest half, which the second takes (nothing else is free): the high-shard models.
    second = replicas(config, "--no-api")
    second.wait_healthy()
    high = {m for m in models if shard_of(m) >= SHARDS // 2}

    def second_scans_the_high_models() -> bool:
        return {line["model"] for line in second.scans()} == high

    wait_until("the second replica's share", second_scans_the_high_models, watch=[first, second])
    os.kill(second.proc.pid, signal.SIGKILL)
    second.proc.wait(PATIENCE)
    killed_at = datetime.now(UTC)

    def first_took_over() -> bool:
        after = {
            line["model"]
            for line in first.scans()
            if parse_instant(line["window_end"]) > killed_at + timedelta(seconds=6)
        }
        return high <= after

    wait_until("the survivor to scan the killed replica's models", first_took_over, watch=[first])
    assert first.stop() == 0
    second.kill()

    logged = Counter((line["model"], line["window_end"]) for line in first.scans() + second.scans())
    assert set(logged.values()) == {1}, logged  # no window scanned twice
    by_model: dict[str, list[datetime]] = {m: [] for m in models}
    for scan in stored_scans(pg_state):
        by_model[scan.model].append(scan.window_end)
    for ends in by_model.values():  # and none skipped, through the arrival and the kill
        assert all(b - a == timedelta(seconds=6) for a, b in itertools.pairwise(ends)), ends
    assert {m for m, _ in logged} == set(models)
