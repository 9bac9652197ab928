"""Outages under `monitor run`: the source DB cut (alert scenarios 7 and 8 of
reference/alerting.md 3.9) and Slack answering 500 then recovering."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url

from monitor.store import Alert, Notification, migrate
from tests.fakes.slack import FakeSlack
from tests.monitor.run.conftest import PG, Replica, read_state, wait_until, write_config
from tests.monitor.run.proxy import TcpProxy
from tests.monitor.run.test_process import stored_scans

SECOND = timedelta(seconds=1)


def alerts_by_check(state_db: str) -> dict[str, Alert]:
    return {a.check_id: a for a in read_state(state_db, select(Alert).order_by(Alert.id))}


def test_source_outage_records_error_scans_raises_stale_and_scan_error_once_and_recovers(
    db_url: str,
    source_db: Engine,
    proxy: TcpProxy,
    fake_slack: FakeSlack,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    # `stale` recovers only once a scan lands within two intervals of its window end: at load
    # 16 a scan of this model took up to 11 s, so a 2 s schedule could never be fresh again.
    config = write_config(
        tmp_path / "m.yaml",
        state_db=db_url,
        source=source_db,
        proxy=proxy,
        slack=fake_slack,
        every="10s",
    )
    replica = replicas(config, "--no-api")
    replica.wait_healthy()
    wait_until(
        "the drift alert", lambda: "dataset_drift" in alerts_by_check(db_url), watch=[replica]
    )
    proxy.cut()
    wait_until(
        "a scan_error alert", lambda: "scan_error" in alerts_by_check(db_url), watch=[replica]
    )
    wait_until("a stale alert", lambda: "stale" in alerts_by_check(db_url), watch=[replica])
    assert replica.proc.poll() is None and replica.get("/healthz").status_code == 200
    during = alerts_by_check(db_url)
    # Scenario 7: while no scan succeeds, the drift alert neither recovers nor resolves.
    assert during["dataset_drift"].state == "firing"
    # Scenario 8: nothing below three errors in a row; at three, one scan_error alert.
    errors = [s for s in stored_scans(db_url) if s.status == "error"]
    assert len(errors) >= 3
    assert errors[1].finished_at < during["scan_error"].raised_at
    assert all(s.error and s.finished_at for s in errors)  # recorded, with the reason

    proxy.restore()
    wait_until("a good scan", lambda: last_status(db_url) in ("ok", "failed"), watch=[replica])
    wait_until(
        "scan_error and stale to recover",
        lambda: (
            {alerts_by_check(db_url)[c].state for c in ("scan_error", "stale")} == {"recovered"}
        ),
        watch=[replica],
    )
    after = alerts_by_check(db_url)
    assert after["dataset_drift"].state == "firing" and after["dataset_drift"].occurrences == 1
    assert replica.stop() == 0
    parents = [c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" not in c.params]
    assert len(parents) == 3  # dataset_drift, scan_error and stale: each posted once


def last_status(state_db: str) -> str | None:
    latest = stored_scans(state_db)
    return latest[-1].status if latest else None


def test_slack_500_keeps_notifications_in_the_outbox_until_it_recovers(
    db_url: str,
    source_db: Engine,
    proxy: TcpProxy,
    fake_slack: FakeSlack,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500, times=1)
    config = write_config(
        tmp_path / "m.yaml", state_db=db_url, source=source_db, proxy=proxy, slack=fake_slack
    )
    replica = replicas(config)
    replica.wait_healthy()
    wait_until("the failed post", lambda: fake_slack.calls_to("chat.postMessage"), watch=[replica])
    wait_until("the retry to be recorded", lambda: pending_with_error(db_url), watch=[replica])
    wait_until("readiness", lambda: replica.get("/readyz").status_code == 200, watch=[replica])
    ready = replica.get("/readyz")
    assert ready.json()["slack"]["status"] == "degraded"  # reported, not failing readiness
    [slack] = ready.json()["notifiers"]  # the one configured notifier, named
    assert (slack["name"], slack["status"], slack["retrying"]) == ("slack", "degraded", 1)
    assert 'monitor_notification_failures{kind="retrying"} 1.0' in replica.get("/metrics").text
    # The default back-off is 30 s after a first 5xx: the retry comes after that.
    wait_until(
        "delivery after recovery", lambda: not outbox(db_url, "pending"), every=0.5, watch=[replica]
    )
    assert replica.stop() == 0
    sent = outbox(db_url, "sent")
    assert sent and all(n.attempts >= 1 for n in sent)
    for alert_id in {n.alert_id for n in sent}:  # in order per alert
        times = [n.sent_at for n in sent if n.alert_id == alert_id]
        assert times == sorted(t for t in times if t is not None)
    # The post that got a 500 went out once more: the same alert's message. (Not the same
    # text: a retry renders the alert as it is now, and each 2 s window moves its value.)
    posts = [c.params.get("blocks", []) for c in fake_slack.calls_to("chat.postMessage")]
    assert [alert_header(p) for p in posts].count(alert_header(posts[0])) == 2


def alert_header(blocks: list[dict[str, Any]]) -> tuple[str, ...]:
    """A parent message's header and its "Alert N" line; replies in a thread have neither."""
    texts = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    return (*texts, *(c for c in contexts if c.startswith("Alert ")))


def pending_with_error(state_db: str) -> bool:
    return any(n.last_error for n in outbox(state_db, "pending"))


def outbox(state_db: str, status: str) -> list[Notification]:
    query = select(Notification).where(Notification.status == status)
    return read_state(state_db, query.order_by(Notification.id))


def test_state_db_outage_never_crashes_and_the_missed_windows_are_scanned_after(
    backend: str,
    db_url: str,
    source_db: Engine,
    proxy: TcpProxy,
    replicas: Callable[..., Replica],
    tmp_path: Path,
) -> None:
    if backend != "postgresql":
        pytest.skip("a SQLite state DB is a local file: there is no connection to cut")
    with TcpProxy(PG).running() as state_proxy:
        url = make_url(db_url).set(port=state_proxy.port).render_as_string(hide_password=False)
        migrate.upgrade(db_url)
        config = write_config(
            tmp_path / "m.yaml",
            state_db=url,
            source=source_db,
            proxy=proxy,
            slack=None,
            run={"catch_up": 100},
        )
        replica = replicas(config)
        replica.wait_healthy()
        wait_until("a scan", lambda: stored_scans(db_url), watch=[replica])
        state_proxy.cut()
        wait_until(
            "readiness to fail", lambda: replica.get("/readyz").status_code == 503, watch=[replica]
        )
        time.sleep(4)  # two scheduled windows pass while the state DB is down
        assert replica.proc.poll() is None and replica.get("/healthz").status_code == 200
        down_until = datetime.now(UTC)
        state_proxy.restore()

        def caught_up() -> bool:
            return stored_scans(db_url)[-1].window_end >= down_until - 2 * SECOND

        wait_until("the missed windows", caught_up, watch=[replica])
        assert replica.stop() == 0
    ends = [s.window_end for s in stored_scans(db_url)]
    assert all(b - a == 2 * SECOND for a, b in itertools.pairwise(ends)), ends
    failures = [line for line in replica.lines() if line["level"] == "error"]
    assert failures and all("password" not in json.dumps(line) for line in failures)
