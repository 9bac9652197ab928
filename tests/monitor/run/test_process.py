"""`monitor run` as a real process: the grid, the ops endpoints, SIGTERM, logs."""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine

from monitor.models import Scan
from monitor.run.models import Lease
from monitor.windows import parse_instant
from tests.fakes.slack import FakeSlack
from tests.monitor.run.conftest import Replica, read_state, wait_until, write_config
from tests.monitor.run.proxy import TcpProxy


def stored_scans(state_db: str) -> list[Scan]:
    return read_state(state_db, select(Scan).order_by(Scan.window_end))


def test_scheduled_scans_land_on_the_utc_grid_with_one_log_line_each_and_ops_endpoints(
    db_url: str,
    source_db: Engine,
    proxy: TcpProxy,
    fake_slack: FakeSlack,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path / "m.yaml", state_db=db_url, source=source_db, proxy=proxy, slack=fake_slack
    )
    replica = replicas(config, "--no-api")
    replica.wait_healthy()
    wait_until("three scans", lambda: len(stored_scans(db_url)) >= 3, timeout=40)
    wait_until("ready", lambda: replica.get("/readyz").status_code == 200, timeout=10)
    assert_ops_endpoints(replica)
    assert replica.stop() == 0

    scans = stored_scans(db_url)
    ends = [s.window_end for s in scans]
    assert all(end.timestamp() % 2 == 0 for end in ends)  # multiples of 2 s since the epoch
    assert all(b - a == timedelta(seconds=2) for a, b in itertools.pairwise(ends))
    assert {s.status for s in scans} == {"failed"}  # x drifted: the drift check fails
    logged = replica.scans()
    assert sorted(parse_instant(line["window_end"]) for line in logged) == ends
    assert all(line["model"] == "m" and line["rows"]["live"] > 0 for line in logged)
    assert all(line["duration_s"] >= 0 and line["status"] == "failed" for line in logged)
    assert "xoxb-secret-token-1" not in replica.log_path.read_text()


def assert_ops_endpoints(replica: Replica) -> None:
    """A --no-api process: ready, Prometheus metrics of the state DB, and no API routes."""
    body = replica.get("/readyz").json()
    assert body["state_db"] == "ok" and body["slack"]["status"] == "ok"
    metrics = replica.get("/metrics").text
    assert 'monitor_last_successful_scan_timestamp_seconds{model="m"}' in metrics
    assert 'monitor_scan_duration_seconds{model="m"}' in metrics
    assert "monitor_outbox_backlog 0.0" in metrics
    # The drift alert (a slow machine may add a `stale` one: the count is not pinned here).
    assert 'monitor_open_alerts{model="m",severity="warning",state="firing"}' in metrics
    assert replica.get("/api/alerts").status_code == 404


def test_sigterm_during_a_slow_scan_exits_in_bounded_time_leaving_no_half_scan(
    db_url: str,
    source_db: Engine,
    proxy: TcpProxy,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path / "m.yaml",
        state_db=db_url,
        source=source_db,
        proxy=proxy,
        slack=None,
        every="1h",
        run={"shutdown_timeout": "3s"},
    )
    proxy.delay = 0.5  # every answer of the source takes 0.5 s: the catch-up scan is slow
    replica = replicas(config)
    replica.wait_healthy()
    wait_until("the scan lease", lambda: held_leases(db_url), timeout=15)
    started = time.monotonic()
    code = replica.stop(signal.SIGTERM, timeout=10)
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed  # shutdown_timeout 3 s plus the exit itself
    for scan in stored_scans(db_url):  # committed whole, or not at all
        assert scan.finished_at is not None and scan.status in {"ok", "failed", "error"}
    assert code in (0, 1)
    if code == 0:  # finished within the bound: the lease was released
        assert held_leases(db_url) == []


def held_leases(state_db: str) -> list[str]:
    return read_state(state_db, select(Lease.name).where(Lease.name.like("scan:%")))


def test_sighup_reloads_the_config_and_a_bad_config_keeps_the_running_one(
    db_url: str,
    source_db: Engine,
    proxy: TcpProxy,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    path = write_config(
        tmp_path / "m.yaml", state_db=db_url, source=source_db, proxy=proxy, slack=None
    )
    replica = replicas(path, "--no-api")
    replica.wait_healthy()
    wait_until("a scan of m", lambda: stored_scans(db_url), timeout=40)
    good = yaml.safe_load(path.read_text())
    path.write_text("models: [{name: broken}]\n")
    replica.proc.send_signal(signal.SIGHUP)
    wait_until("the reload error", lambda: reload_failed(replica), timeout=10)
    second = dict(good["models"][0], name="m2")
    path.write_text(yaml.safe_dump(dict(good, models=[*good["models"], second])))
    replica.proc.send_signal(signal.SIGHUP)

    def scanned_m2() -> bool:
        return any(s.model == "m2" for s in stored_scans(db_url))

    wait_until("a scan of the added model", scanned_m2, timeout=20)
    assert replica.proc.poll() is None
    assert replica.stop() == 0
    reloaded = [line for line in replica.lines() if line["message"] == "config reloaded"]
    assert reloaded and reloaded[-1]["models"] == ["m", "m2"]


def reload_failed(replica: Replica) -> bool:
    return any("reload failed" in line["message"] for line in replica.lines())
