"""``notify:`` lists end to end: config -> routing -> outbox -> each destination's fake.

A critical alert reaches Slack and PagerDuty, a warning Slack only; an escalation pages the
destinations the new severity reaches; each destination has its own row stream, so a
PagerDuty failing (or rate limiting) never holds up Slack; a silence holds every destination.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge, resolve, silence_model
from monitor.alerts.maintenance import plan_maintenance
from monitor.alerts.notify import Notifier, ThreadEvent
from monitor.alerts.queries import alert_detail
from monitor.alerts.tick import tick
from monitor.alerts.wiring import routing_for
from monitor.api.app import create_ops_app
from monitor.config import Config, parse_config
from monitor.config.load import config_secrets
from monitor.errors import ConfigError
from monitor.notifiers.email import EmailNotifier, SmtpServer
from monitor.notifiers.webhook import WebhookNotifier, verify
from monitor.notifiers.words import alert_key, dashboard_links
from monitor.run.notifiers import build_notifier
from monitor.status import status_report
from monitor.status.render import render_markdown, render_text
from monitor.store import Notification
from tests.fakes.http_sink import FakeHttpSink
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.monitor.alerts.conftest import HOUR, T0, failing, run_scan
from tests.monitor.alerts.test_notifier_contract import _alert

MODEL: dict[str, Any] = {
    "name": "churn",
    "source": "prod",
    "table": "preds",
    "timestamp": "ts",
    "features": {"numerical": ["age"]},
    "prediction": "pred",
    "reference": {"previous": "7d"},
}


def _config(pd: FakeHttpSink, hook: FakeHttpSink, smtp: FakeSmtp, slack: FakeSlack) -> Config:
    tree = {
        "sources": {"prod": {"url": "sqlite://"}},
        "slack": {"token": "xoxb-1", "channel": "#ml-alerts", "api_url": slack.base_url},
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "starttls": False, "sender": "m@ex.com"},
        "api": {"public_url": "https://monitor.example.com/"},
        "notify": [{"slack": "#ml-alerts"}],
        "models": [
            MODEL
            | {
                "notify": [
                    {"slack": "#churn"},
                    {
                        "pagerduty": {"routing_key": "PDKEY-1", "api_url": pd.base_url},
                        "severities": ["critical"],
                    },
                    {
                        "webhook": f"{hook.base_url}/retrain",
                        "secret": "HOOK-SECRET",
                        "events": ["raised", "resolved"],
                        "name": "retrain",
                    },
                    {"email": {"to": ["oncall@example.com"]}, "severities": ["critical"]},
                ]
            },
            MODEL | {"name": "fraud"},  # no list of its own: the default notify: list
        ],
    }
    return parse_config(tree, file="monitor.yaml")


class World:
    def __init__(self, sessions: sessionmaker[Session], stack: Any) -> None:
        self.sessions = sessions
        self.slack = stack.enter_context(FakeSlack().running())
        self.pd = stack.enter_context(FakeHttpSink().running())
        self.hook = stack.enter_context(FakeHttpSink().running())
        self.smtp = stack.enter_context(FakeSmtp().running())
        self.config = _config(self.pd, self.hook, self.smtp, self.slack)
        self.routing = routing_for(self.config)
        self.notifier: Notifier = build_notifier(self.config, sessions=sessions)

    def scan(self, at: Any, severity: str) -> None:
        run_scan(self.sessions, at, [failing(severity=severity)], routing=self.routing)

    def tick(self, at: Any) -> Any:
        return tick(self.sessions, now=at, notifier=self.notifier, routing=self.routing)

    def rows(self) -> list[tuple[str, str, str]]:
        with self.sessions() as session:
            query = select(Notification).order_by(Notification.id)
            return [(r.channel, r.kind, r.status) for r in session.scalars(query)]

    def pd_actions(self) -> list[str]:
        return [r.json()["event_action"] for r in self.pd.received()]


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[World]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield World(sessions, stack)


def test_a_warning_goes_to_slack_and_the_webhook_but_pages_nobody(world: World) -> None:
    world.scan(T0, "warning")
    world.tick(T0)
    assert world.rows() == [
        ("#churn", "post", "sent"),
        ("webhook:retrain", "post", "sent"),
    ]
    assert [c.params["channel"] for c in world.slack.calls_to("chat.postMessage")] == ["#churn"]
    assert (world.pd.received(), world.smtp.received()) == ([], [])
    [hook] = world.hook.received()
    assert verify("HOOK-SECRET", hook.body, hook.headers, now=time.time())
    body = hook.json()
    assert (body["event"], body["alert"]["model"], body["alert"]["severity"]) == (
        "raised",
        "churn",
        "warning",
    )
    assert body["links"] == {
        "alert": "https://monitor.example.com/#/alerts/1",
        "check": "https://monitor.example.com/#/models/churn/checks/accuracy",
        "model": "https://monitor.example.com/#/models/churn",
    }
    # Read when the body is built: the model's latest scan (none stored here) and its health.
    assert body["scan"] is None
    assert body["health"] == {"health": "red", "reason": "never scanned successfully"}


def test_a_critical_alert_pages_and_its_lifecycle_is_mirrored(world: World) -> None:
    world.scan(T0, "critical")
    world.tick(T0)
    assert world.pd_actions() == ["trigger"]
    trigger = world.pd.received()[0].json()
    assert trigger["payload"]["source"] == "churn"
    assert trigger["payload"]["severity"] == "critical"
    details = trigger["payload"]["custom_details"]
    assert (details["value"], details["threshold"], details["window_end"]) == (
        0.74,
        0.8,
        "2026-11-24T09:00:00+00:00",
    )
    site = "https://monitor.example.com"
    assert details["dashboard"] == f"{site}/#/alerts/1"
    assert [link["href"] for link in trigger["links"]] == [
        f"{site}/#/alerts/1",
        f"{site}/#/models/churn/checks/accuracy",
        f"{site}/#/models/churn",
    ]
    assert details["chart"] == trigger["links"][1]["href"]
    with world.sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)
        session.commit()
    world.tick(T0 + HOUR)
    with world.sessions() as session:
        resolve(session=session, alert_id=1, by="alice", now=T0 + 2 * HOUR)
        session.commit()
    world.tick(T0 + 2 * HOUR)
    assert world.pd_actions() == ["trigger", "acknowledge", "resolve"]
    assert {json.loads(r.body)["dedup_key"] for r in world.pd.received()} == {trigger["dedup_key"]}
    mails = world.smtp.received()
    assert [m["In-Reply-To"] for m in mails] == [
        None,
        mails[0]["Message-ID"],
        mails[0]["Message-ID"],
    ]
    assert [r.json()["event"] for r in world.hook.received()] == ["raised", "resolved"]
    assert all(status == "sent" for _, _, status in world.rows())


def test_an_escalation_pages_the_destinations_the_new_severity_reaches(world: World) -> None:
    world.scan(T0, "warning")
    world.tick(T0)
    world.scan(T0 + HOUR, "critical")
    world.tick(T0 + HOUR)
    assert world.pd_actions()[0] == "trigger"
    assert world.pd.received()[0].json()["payload"]["severity"] == "critical"
    assert len(world.smtp.received()) >= 1
    posts = [(c, k) for c, k, _ in world.rows() if k == "post"]
    assert posts == [
        ("#churn", "post"),
        ("webhook:retrain", "post"),
        ("pagerduty:pagerduty", "post"),
        ("email:email", "post"),
    ]


def test_a_failing_pagerduty_never_holds_up_slack(world: World) -> None:
    world.scan(T0, "critical")
    world.pd.fail_next(429, headers={"Retry-After": "600"})
    world.tick(T0)
    with world.sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + timedelta(minutes=1))
        session.commit()
    world.tick(T0 + timedelta(minutes=1))
    pending = [(c, k) for c, k, s in world.rows() if s == "pending"]
    assert pending == [("pagerduty:pagerduty", k) for k in ("post", "update", "reply")]
    assert [c.method for c in world.slack.calls][-2:] == ["chat.update", "chat.postMessage"]
    world.tick(T0 + timedelta(minutes=11))
    assert world.pd_actions()[-2:] == ["trigger", "acknowledge"]


def test_a_silence_holds_every_destination(world: World) -> None:
    with world.sessions() as session:
        silence_model(
            session=session, model="churn", by="bob", now=T0, duration=HOUR, reason="deploy"
        )
        session.commit()
    world.scan(T0, "critical")
    world.tick(T0 + timedelta(minutes=5))
    assert world.pd.received() == world.hook.received() == []
    assert world.smtp.received() == [] and world.slack.calls_to("chat.postMessage") == []
    world.tick(T0 + 2 * HOUR)
    assert world.pd_actions() == ["trigger"] and len(world.smtp.received()) == 1


def test_a_config_without_notify_lists_routes_as_before(sessions: sessionmaker[Session]) -> None:
    tree = {
        "sources": {"prod": {"url": "sqlite://"}},
        "slack": {"token": "xoxb-1", "channel": "#ml-alerts"},
        "models": [MODEL],
    }
    routing = routing_for(parse_config(tree, file="monitor.yaml"))
    assert routing.routes == {}
    assert routing.post_channels(model="churn", severity="critical", model_channel=None) == [
        "#ml-alerts"
    ]


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ([{"webhook": "https://x.example/h"}], "a webhook needs secret:"),
        ([{"webhook": "ftp://x", "secret": "s"}], "http:// or https://"),
        ([{"pagerduty": {"routing_key": "k"}, "email": {"to": ["a@b"]}}], "exactly one of"),
        ([{"email": {"to": ["a@b"]}}], "email entries need the smtp: section"),
        ([{"slack": "#a"}, {"slack": "#b"}], "at most one slack entry"),
        ([{"pagerduty": {"routing_key": "k"}, "severities": ["fatal"]}], "severities"),
    ],
)
def test_bad_notify_entries_are_clear_errors(entries: list[dict[str, Any]], problem: str) -> None:
    tree = {
        "sources": {"prod": {"url": "sqlite://"}},
        "slack": {"token": "xoxb-1", "channel": "#ml-alerts"},
        "models": [MODEL | {"notify": entries}],
    }
    with pytest.raises(ConfigError, match=problem) as failed:
        parse_config(copy.deepcopy(tree), file="monitor.yaml")
    assert "churn" in str(failed.value) or "notify" in str(failed.value)


def test_two_different_destinations_under_one_name_are_refused() -> None:
    tree = {
        "sources": {"prod": {"url": "sqlite://"}},
        "notify": [{"pagerduty": {"routing_key": "k1"}}],
        "models": [MODEL | {"notify": [{"pagerduty": {"routing_key": "k2"}}]}],
    }
    with pytest.raises(ConfigError, match="give each a name"):
        parse_config(tree, file="monitor.yaml")


def test_notify_secrets_are_redacted_secrets() -> None:
    tree = {
        "sources": {"prod": {"url": "sqlite://"}},
        "smtp": {"host": "h", "sender": "m@ex.com", "username": "u", "password": "SMTP-PW"},
        "notify": [
            {"pagerduty": {"routing_key": "PD-KEY", "webhook_secret": "PD-HOOK"}},
            {"webhook": "https://x.example/h", "secret": "HOOK-S"},
        ],
        "models": [MODEL],
    }
    config = parse_config(tree, file="monitor.yaml")
    assert {"SMTP-PW", "PD-KEY", "PD-HOOK", "HOOK-S"} <= set(config_secrets(config))
    assert "PD-KEY" not in repr(config) and "HOOK-S" not in repr(config)


def test_email_replies_are_filtered_by_events(sessions: sessionmaker[Session]) -> None:
    with FakeSmtp().running() as smtp:
        server = SmtpServer(host="127.0.0.1", port=smtp.port, sender="m@ex.com", starttls=False)
        mail = EmailNotifier(server=server, to=["a@ex.com"], events={"resolved"})
        alert = _alert()
        parent = mail.post(alert, channel="email:team", mention=None)
        assert parent.ts == alert_key(alert)
        for kind in ("reminder", "acknowledged", "acknowledged_resolved"):
            event = ThreadEvent(kind, {"by": "alice", "severity": "critical", "summary": "s"})
            mail.reply(
                alert, channel="email:team", thread_ts=parent.ts, event=event, broadcast=False
            )
        subjects = [m["Subject"] for m in smtp.received()]
    assert subjects == ["[CRITICAL] churn: accuracy", "Re: [CRITICAL] churn: accuracy"]


def test_events_are_refused_where_nothing_filters_them() -> None:
    tree = {
        "sources": {"prod": {"url": "sqlite://"}},
        "notify": [{"pagerduty": {"routing_key": "k"}, "events": ["raised"]}],
        "models": [MODEL],
    }
    with pytest.raises(ConfigError, match="events: is for webhook and email"):
        parse_config(tree, file="monitor.yaml")


def test_the_alert_says_when_retraining_was_requested(world: World) -> None:
    world.scan(T0, "warning")
    world.hook.fail_next(503)
    world.tick(T0)
    with world.sessions() as session:
        assert alert_detail(session=session, alert_id=1).retraining_requested_at is None
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)  # not asked for
        session.commit()
    world.tick(T0 + 2 * HOUR)  # the raised webhook, retried after its back-off
    with world.sessions() as session:
        detail = alert_detail(session=session, alert_id=1)
    assert [r.json()["event"] for r in world.hook.received()] == ["raised", "raised"]
    assert detail.retraining_requested_at == "2026-11-24T11:00:00Z"


def test_events_a_webhook_was_not_asked_for_request_nothing(world: World) -> None:
    world.scan(T0, "warning")
    world.tick(T0)
    with world.sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR)
        session.commit()
    world.tick(T0 + HOUR)
    with world.sessions() as session:
        detail = alert_detail(session=session, alert_id=1)
        replies = session.scalars(
            select(Notification.slack_ts).where(
                Notification.channel == "webhook:retrain", Notification.kind == "reply"
            )
        )
        assert list(replies) == [""]  # settled without a call
    assert [r.json()["event"] for r in world.hook.received()] == ["raised"]
    assert detail.retraining_requested_at == "2026-11-24T09:00:00Z"
    quiet = WebhookNotifier(url=world.hook.base_url, secret="s", events={"resolved"})
    assert quiet.post(_alert(), channel="webhook:x", mention=None).ts == ""
    assert len(world.hook.received()) == 1


def test_a_maintenance_window_holds_every_destination_until_it_ends(world: World) -> None:
    with world.sessions() as session:
        plan_maintenance(
            session=session,
            model="churn",
            starts_at=T0 + timedelta(minutes=30),
            ends_at=T0 + 2 * HOUR,
            by="bob",
            reason="feature store migration",
            now=T0,
        )
        session.commit()
    world.scan(T0 + HOUR, "critical")
    world.tick(T0 + HOUR)
    assert world.pd.received() == world.hook.received() == []
    assert world.smtp.received() == [] and world.slack.calls_to("chat.postMessage") == []
    assert {status for _, _, status in world.rows()} == {"pending"}
    world.tick(T0 + 2 * HOUR + timedelta(minutes=1))
    assert world.pd_actions() == ["trigger"] and len(world.smtp.received()) == 1
    assert [r.json()["event"] for r in world.hook.received()] == ["raised"]
    assert [c.params["channel"] for c in world.slack.calls_to("chat.postMessage")] == ["#churn"]


REASONS = {
    "pagerduty:pagerduty": "refused the request (400)",
    "webhook:retrain": "refused the request (410)",
    "email:email": "550 5.1.1 no such user",
}
REFUSALS = {
    "pagerduty:pagerduty": lambda w: w.pd.fail_next(400),
    "webhook:retrain": lambda w: w.hook.fail_next(410),
    "email:email": lambda w: w.smtp.refuse_next("550 5.1.1 no such user"),
}


@pytest.mark.parametrize("refused", sorted(REFUSALS))
def test_a_destination_refusing_for_good_is_shown_in_status_and_readyz(
    world: World, refused: str
) -> None:
    REFUSALS[refused](world)
    world.scan(T0, "critical")
    world.tick(T0)
    assert [c for c, _, status in world.rows() if status == "failed"] == [refused]
    with world.sessions() as session:
        report = status_report(world.config, session=session, now=T0)
    states = {d.name: (d.kind, d.status, d.failed) for d in report.delivery}
    assert states == {
        "slack": ("slack", "ok", 0),
        "email:email": ("email", "ok", 0),
        "pagerduty:pagerduty": ("pagerduty", "ok", 0),
        "webhook:retrain": ("webhook", "ok", 0),
    } | {refused: (refused.partition(":")[0], "degraded", 1)}
    [trouble] = [d for d in report.delivery if d.status != "ok"]
    with world.sessions() as session:
        row = session.scalars(select(Notification).where(Notification.status == "failed")).one()
    assert trouble.problems == [
        f"notification {row.id} (post to {refused}) for alert 1 not delivered: {row.last_error}"
    ]
    assert REASONS[refused] in str(row.last_error)  # the receiver's own words
    assert f"{refused}: 1 refused for good, 0 retrying" in render_text(report)
    assert trouble.problems[0] in render_markdown(report)
    ops = TestClient(create_ops_app(sessions=world.sessions, clock=lambda: T0, config=world.config))
    ready = ops.get("/readyz").json()
    assert [n["name"] for n in ready["notifiers"]] == [d.name for d in report.delivery]
    assert ready["notifiers"] == [d.as_json() for d in report.delivery]
    assert (ready["slack"]["failed"], ready["slack"]["problems"]) == (1, trouble.problems)
    metrics = ops.get("/metrics").text
    assert f'monitor_channel_notification_failures{{channel="{refused}",kind="failed"}} 1.0' in (
        metrics
    )
    assert metrics.count("monitor_channel_notification_failures{") == 1


def test_dashboard_links_encode_check_ids_and_segments_as_the_dashboard_does() -> None:
    alert = _alert(model="churn v2", check_id="drift:income", segment="eu/west")
    assert dashboard_links(alert, "https://m.example.com") == {
        "alert": "https://m.example.com/#/alerts/7",
        "check": "https://m.example.com/#/models/churn%20v2/checks/drift%3Aincome"
        "?segment=eu%2Fwest",
        "model": "https://m.example.com/#/models/churn%20v2",
    }
    assert dashboard_links(alert, None) == {}


def test_routing_is_per_model_a_model_without_a_list_takes_the_default(world: World) -> None:
    run_scan(
        world.sessions, T0, [failing(severity="critical")], model="fraud", routing=world.routing
    )
    world.tick(T0)
    assert world.rows() == [("#ml-alerts", "post", "sent")]
    assert (world.pd.received(), world.hook.received(), world.smtp.received()) == ([], [], [])
    [post] = world.slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "#ml-alerts" and "fraud" in post.params["text"]
