"""One alert per (model, check) lists its failing segments; ``segments: each`` keeps one alert
per segment (DESIGN "Segments"), on SQLite and PostgreSQL with the fake Slack."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.conditions import CheckSignal
from monitor.alerts.policy import AlertPolicy
from monitor.alerts.queries import alert_json, list_alerts
from monitor.alerts.tick import tick
from monitor.slack.transport import SlackNotifier
from monitor.store import Alert, AlertEvent, Notification, make_sessionmaker, migrate
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan


def _alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def _outbox(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return [n.kind for n in session.scalars(select(Notification).order_by(Notification.id))]


def test_one_alert_per_check_lists_its_failing_segments_worst_first(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(
        sessions,
        T0,
        [
            passing(),
            failing(segment="eu", value=0.7),
            failing(segment="us", severity="critical", value=0.5),
            passing(segment="apac"),
        ],
    )
    [alert] = _alerts(sessions)
    assert (alert.segment, alert.severity, alert.raised_at) == ("", "critical", T0)
    assert [(s["segment"], s["severity"]) for s in alert.segments] == [
        ("us", "critical"),
        ("eu", "warning"),
    ]
    assert alert.value == 0.5 and alert.summary.endswith("[us]")
    shown = alert_json(alert)
    assert [s.segment for s in shown.segments] == ["us", "eu"]
    with sessions() as session:
        assert [a.id for a in list_alerts(session=session, segment="eu")] == [alert.id]
        assert list_alerts(session=session, segment="apac") == []


def test_whole_window_failure_leads_and_segments_are_listed_beside_it(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [failing(value=0.72), failing(segment="eu", value=0.6)])
    [alert] = _alerts(sessions)
    assert (alert.value, alert.summary) == (0.72, "accuracy 0.72 < 0.80")
    assert [s["segment"] for s in alert.segments] == ["eu"]


def test_a_changed_segment_list_edits_the_parent_without_a_thread_reply(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0, [passing(), failing(segment="eu")])
    tick(sessions, now=T0, notifier=slack)
    run_scan(sessions, T0 + HOUR, [passing(), failing(segment="eu"), failing(segment="us")])
    # The same segments failing with other values: nothing to tell.
    run_scan(
        sessions,
        T0 + 2 * HOUR,
        [passing(), failing(segment="eu", value=0.6), failing(segment="us", value=0.7)],
    )
    tick(sessions, now=T0 + 2 * HOUR, notifier=slack)
    assert _outbox(sessions) == ["post", "update"]
    [post] = fake_slack.calls_to("chat.postMessage")
    [edit] = fake_slack.calls_to("chat.update")
    assert "eu (warning)" in str(post.params["blocks"]) and "us (" not in str(post.params["blocks"])
    assert "Failing segments (2)" in str(edit.params["blocks"])
    assert "us (warning): accuracy 0.70 < 0.80" in str(edit.params["blocks"])
    assert edit.params["text"].endswith("(firing, failing in 2 segments)")
    [alert] = _alerts(sessions)
    assert [s["value"] for s in alert.segments] == [0.6, 0.7]


def test_the_alert_recovers_when_its_last_failing_segment_clears(
    sessions: sessionmaker[Session],
) -> None:
    run_scan(sessions, T0, [passing(), failing(segment="eu"), failing(segment="us")])
    run_scan(sessions, T0 + HOUR, [passing(), passing(segment="eu"), failing(segment="us")])
    [alert] = _alerts(sessions)
    assert (alert.state, [s["segment"] for s in alert.segments]) == ("firing", ["us"])
    run_scan(sessions, T0 + 2 * HOUR, [passing(), passing(segment="eu"), passing(segment="us")])
    [alert] = _alerts(sessions)
    assert (alert.state, alert.recovered_at, alert.segments) == ("recovered", T0 + 2 * HOUR, [])
    with sessions() as session:
        kinds = list(session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)))
    assert kinds == ["raised", "recovered"]


def test_each_segment_debounces_on_its_own(sessions: sessionmaker[Session]) -> None:
    policy = AlertPolicy(raise_after=2)
    run_scan(sessions, T0, [passing(), failing(segment="eu")], policy=policy)
    run_scan(
        sessions,
        T0 + HOUR,
        [passing(), failing(segment="eu"), failing(segment="us")],
        policy=policy,
    )
    [alert] = _alerts(sessions)
    assert (alert.raised_at, [s["segment"] for s in alert.segments]) == (T0 + HOUR, ["eu"])


def _unknown(segment: str) -> CheckSignal:
    return CheckSignal("accuracy", None, "warning", None, None, segment, "insufficient data")


def test_insufficient_segments_neither_raise_nor_clear(sessions: sessionmaker[Session]) -> None:
    run_scan(sessions, T0, [passing(), _unknown("tiny")])
    assert _alerts(sessions) == []
    run_scan(sessions, T0 + HOUR, [passing(), failing(segment="eu")])
    run_scan(sessions, T0 + 2 * HOUR, [passing(), _unknown("eu")])
    [alert] = _alerts(sessions)
    assert alert.state == "firing" and [s["segment"] for s in alert.segments] == ["eu"]


def test_segments_each_opens_one_alert_per_segment(sessions: sessionmaker[Session]) -> None:
    each = AlertPolicy(segment_alerts=frozenset({"accuracy"}))
    run_scan(sessions, T0, [passing(), failing(segment="eu"), failing(segment="us")], policy=each)
    assert [(a.segment, a.segments) for a in _alerts(sessions)] == [("eu", []), ("us", [])]


def test_a_stored_per_segment_alert_follows_its_segment_until_it_closes(
    sessions: sessionmaker[Session],
) -> None:
    """An alert opened per segment (before the upgrade, or under ``segments: each``) keeps
    following its own segment when the check alerts once for all segments."""
    each = AlertPolicy(segment_alerts=frozenset({"accuracy"}))
    run_scan(sessions, T0, [passing(), failing(segment="eu")], policy=each)
    run_scan(sessions, T0 + HOUR, [passing(), failing(segment="eu"), failing(segment="us")])
    legacy, grouped = _alerts(sessions)
    assert (legacy.segment, legacy.state, legacy.value) == ("eu", "firing", 0.74)
    # eu has its own alert: the check's alert lists only the others.
    assert (grouped.segment, [s["segment"] for s in grouped.segments]) == ("", ["us"])
    run_scan(sessions, T0 + 2 * HOUR, [passing(), passing(segment="eu"), passing(segment="us")])
    legacy, grouped = _alerts(sessions)
    assert (legacy.state, grouped.state) == ("recovered", "recovered")


def test_a_per_segment_alert_stored_before_the_upgrade_reads_and_recovers(
    db_url: str, engine: Engine
) -> None:
    migrate.upgrade(db_url, "20261203_10")
    with make_sessionmaker(engine)() as session:
        session.execute(
            text(
                "INSERT INTO alert (model, check_id, segment, state, severity, condition,"
                " occurrences, summary, raised_at, version) VALUES ('churn', 'accuracy', 'eu',"
                " 'firing', 'warning', 'warning', 1, 'accuracy 0.7 < min 0.8', :t0, 1)"
            ),
            {"t0": T0 - HOUR},
        )
        session.commit()
    migrate.upgrade(db_url)
    sessions = make_sessionmaker(engine)
    [stored] = _alerts(sessions)
    assert (stored.segment, stored.segments, alert_json(stored).segments) == ("eu", [], [])
    run_scan(sessions, T0, [passing(), failing(segment="eu", value=0.6)])
    [stored] = _alerts(sessions)
    assert (stored.state, stored.value) == ("firing", 0.6)
    run_scan(sessions, T0 + HOUR, [passing(), passing(segment="eu")])
    [stored] = _alerts(sessions)
    assert (stored.state, stored.recovered_at) == ("recovered", T0 + HOUR)
