"""`monitor run` as a real process: the grid, the ops endpoints, SIGTERM, logs."""

from __future__ import annotations

import itertools
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine

from monitor.store import Lease, Scan
from monitor.windows import parse_instant
from tests.fakes.slack import FakeSlack
from tests.monitor.run.conftest import ROOT, Replica, read_state, wait_until, write_config
from tests.monitor.run.proxy import TcpProxy
from tests.waiting import PATIENCE


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
    wait_until("three scans", lambda: len(stored_scans(db_url)) >= 3, watch=[replica])
    wait_until("ready", lambda: replica.get("/readyz").status_code == 200, watch=[replica])
    assert_ops_endpoints(replica)
    assert replica.stop() == 0

    scans = stored_scans(db_url)
    ends = [s.window_end for s in scans]
    assert all(end.timestamp() % 2 == 0 for end in ends)  # multiples of 2 s since the epoch
    # No grid window skipped, however late a firing ran: the late run scans every due window
    # (catch_up is large here). The wall-clock spacing of the firings is not asserted.
    assert all(b - a == timedelta(seconds=2) for a, b in itertools.pairwise(ends)), ends
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

    def drained() -> str | None:  # the drift alert's post is sent by the next tick
        text = replica.get("/metrics").text
        return text if "monitor_outbox_backlog 0.0" in text else None

    metrics = wait_until("an empty outbox in /metrics", drained, watch=[replica])
    assert 'monitor_last_successful_scan_timestamp_seconds{model="m"}' in metrics
    assert 'monitor_scan_duration_seconds{model="m"}' in metrics
    # The drift alert (a slow machine may add a `stale` one: the count is not pinned here).
    assert 'monitor_open_alerts{model="m",severity="warning",state="firing"}' in metrics
    assert replica.get("/api/alerts").status_code == 404


def test_sigterm_during_a_hung_scan_exits_after_shutdown_timeout_leaving_no_half_scan(
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
    # The source answers nothing until the test ends: the catch-up scan cannot finish, however
    # fast or slow the machine, so only the shutdown bound can end the process.
    proxy.hold()
    replica = replicas(config)
    replica.wait_healthy()
    wait_until("the scan lease", lambda: held_leases(db_url), watch=[replica])
    replica.proc.send_signal(signal.SIGTERM)
    assert replica.proc.wait(PATIENCE) == 1  # the scan was abandoned at the deadline
    logged = {line["message"]: parse_instant(line["time"]) for line in replica.lines()}
    waited = logged["shutdown timed out with a scan running; it is rolled back"]
    waited -= logged["stopping"]
    # It gave the scan the configured 3 s, not less, and not the 120 s of the test config's
    # default or the product's 30 s (measured by the process, so a busy machine adds little).
    assert timedelta(seconds=3) <= waited < timedelta(seconds=20), waited
    assert stored_scans(db_url) == []  # the unfinished scan was rolled back: nothing half-done


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
    wait_until("a scan of m", lambda: stored_scans(db_url), watch=[replica])
    good = yaml.safe_load(path.read_text())
    path.write_text("models: [{name: broken}]\n")
    replica.proc.send_signal(signal.SIGHUP)
    wait_until("the reload error", lambda: reload_failed(replica), watch=[replica])
    second = dict(good["models"][0], name="m2")
    path.write_text(yaml.safe_dump(dict(good, models=[*good["models"], second])))
    replica.proc.send_signal(signal.SIGHUP)

    def scanned_m2() -> bool:
        return any(s.model == "m2" for s in stored_scans(db_url))

    wait_until("a scan of the added model", scanned_m2, watch=[replica])
    assert replica.proc.poll() is None
    assert replica.stop() == 0
    reloaded = [line for line in replica.lines() if line["message"] == "config reloaded"]
    assert reloaded and reloaded[-1]["models"] == ["m", "m2"]


def reload_failed(replica: Replica) -> bool:
    return any("reload failed" in line["message"] for line in replica.lines())


def test_a_taken_port_is_a_one_line_error_before_any_scan(
    db_url: str, source_db: Engine, proxy: TcpProxy, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "m.yaml", state_db=db_url, source=source_db, proxy=proxy, slack=None
    )
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "monitor", "run", "-c", str(config), "--port", str(port)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=PATIENCE)
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert stored_scans(db_url) == []  # refused before the scheduler started
