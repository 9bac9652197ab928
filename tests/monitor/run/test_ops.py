"""/healthz, /readyz and /metrics on the state DB (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import prometheus_client
import pytest
from fastapi.testclient import TestClient
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from monitor.api.app import create_ops_app
from monitor.api.ops import default_collectors
from monitor.run import leases
from monitor.store import Notification, make_sessionmaker
from tests.monitor.run.test_units import T0, add_scan, alert_row

NOW = T0 + timedelta(hours=1)


def app_client(sessions: sessionmaker[Session], **kwargs: object) -> TestClient:
    return TestClient(create_ops_app(sessions=sessions, clock=lambda: NOW, **kwargs))  # type: ignore[arg-type]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_readyz_needs_a_recent_tick_and_reports_slack_trouble_without_failing(
    sessions: sessionmaker[Session],
) -> None:
    client = app_client(sessions, tick_max_age=timedelta(minutes=3))
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 503  # no tick yet
    leases.beat(sessions, "tick", holder="a", at=NOW - timedelta(minutes=1))
    with sessions() as session:
        session.add(alert_row())
        session.flush()
        session.add(notification(status="pending", last_error="http 500"))
        session.commit()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["slack"] == {
        "status": "degraded", "failed": 0, "retrying": 1, "last_error": "http 500", "problems": []
    }  # fmt: skip
    assert "notifiers" not in ready.json()  # without a config, nothing says which there are
    leases.beat(sessions, "tick", holder="a", at=NOW - timedelta(minutes=4))
    assert client.get("/readyz").status_code == 503


def test_readyz_names_each_notification_refused_for_good(
    sessions: sessionmaker[Session],
) -> None:
    leases.beat(sessions, "tick", holder="a", at=NOW)
    with sessions() as session:
        session.add(alert_row())
        session.flush()
        session.add(notification(status="failed", last_error="channel_not_found"))
        session.commit()
    ready = app_client(sessions).get("/readyz")
    assert ready.status_code == 200
    slack = ready.json()["slack"]
    assert (slack["status"], slack["failed"], slack["last_error"]) == (
        "degraded", 1, "channel_not_found"
    )  # fmt: skip
    assert slack["problems"] == [
        "notification 1 (post to #ml) for alert 1 not delivered: channel_not_found"
    ]


def test_readyz_fails_when_the_state_db_is_unreachable() -> None:
    from monitor.store import make_engine

    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    body = app_client(make_sessionmaker(engine)).get("/readyz")
    assert body.status_code == 503 and body.json()["state_db"].startswith("unreachable")


def notification(**fields: object) -> Notification:
    row = Notification(alert_id=1, kind="post", channel="#ml", created_at=T0, next_attempt_at=T0)
    for name, value in fields.items():
        setattr(row, name, value)
    return row


def test_metrics_report_scans_outbox_and_alerts_from_the_state_db(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        add_scan(session, T0 - timedelta(minutes=15))
        add_scan(session, T0, status="error")
        session.add(alert_row())
        session.flush()
        session.add_all([notification(status="pending"), notification(status="failed")])
        session.commit()
    text = app_client(sessions).get("/metrics").text
    values = samples(text)
    last_ok = (T0 - timedelta(minutes=15)).timestamp()
    assert values[("monitor_last_successful_scan_timestamp_seconds", (("model", "m"),))] == last_ok
    assert values[("monitor_scan_duration_seconds", (("model", "m"),))] == 0.0
    assert values[("monitor_outbox_backlog", ())] == 1.0
    assert values[("monitor_outbox_oldest_pending_age_seconds", ())] == 3600.0
    assert values[("monitor_notification_failures", (("kind", "failed"),))] == 1.0
    # per channel too, so a refusing PagerDuty is told apart from Slack
    assert (
        values[("monitor_channel_notification_failures", (("channel", "#ml"), ("kind", "failed")))]
        == 1.0
    )
    assert (
        "monitor_channel_notification_failures",
        (("channel", "#ml"), ("kind", "retrying")),
    ) not in values
    labels = (("model", "m"), ("severity", "warning"), ("state", "firing"))
    assert values[("monitor_open_alerts", labels)] == 1.0
    assert values[("monitor_scans", (("model", "m"), ("status", "error")))] == 1.0


def test_metrics_take_extra_collectors_and_never_touch_the_global_registry(
    sessions: sessionmaker[Session],
) -> None:
    def extra(session: Session, now: datetime) -> Iterator[Metric]:
        gauge = GaugeMetricFamily("monitor_extra", "An added collector.", labels=["model"])
        gauge.add_metric(["m"], now.timestamp())
        yield gauge

    client = app_client(sessions, collectors=[*default_collectors(), extra])
    first, second = client.get("/metrics").text, client.get("/metrics").text
    assert samples(first)[("monitor_extra", (("model", "m"),))] == NOW.timestamp()
    assert first == second  # built afresh per request: nothing accumulates
    global_names = {m.name for m in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("monitor_") for name in global_names)


@pytest.mark.parametrize("path", ["/api/alerts", "/docs"])
def test_the_ops_app_serves_nothing_else(
    sessions: sessionmaker[Session],
    path: str,
) -> None:
    assert app_client(sessions).get(path).status_code == 404


def test_the_full_api_app_serves_the_ops_routes_too(
    sessions: sessionmaker[Session],
) -> None:
    from monitor.api.app import ApiSettings, create_app

    leases.beat(sessions, "tick", holder="a", at=NOW)
    app = create_app(sessions=sessions, settings=ApiSettings(), clock=lambda: NOW)
    client = TestClient(app)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert "monitor_outbox_backlog 0.0" in client.get("/metrics").text
    assert client.get("/api/alerts").status_code == 200
