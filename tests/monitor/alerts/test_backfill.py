"""Backfills don't page (issue 15 item 2): every window moves the alerts, one notification per
alert at the end with its final state; ``--notify all`` keeps one per change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.backfill import release_held
from monitor.alerts.conditions import CheckSignal
from monitor.alerts.evaluate import evaluate_scan
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.alerts.tick import tick
from monitor.slack.transport import SlackNotifier
from monitor.store import Alert, AlertEvent, Notification
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan

LATER = T0 + timedelta(days=30)


def _scan(
    sessions: sessionmaker[Session], end: datetime, signals: Sequence[CheckSignal], hold: bool
) -> None:
    with sessions() as session:
        evaluate_scan(
            session=session,
            model="churn",
            window_end=end,
            signals=signals,
            policy=AlertPolicy(),
            routing=Routing(),
            now=LATER,
            hold=hold,
        )
        session.commit()


# Thirty windows: accuracy breaks at window 20 and stays broken; drift:x breaks at 5, flips
# (5 breaches) and ends passing; missing_share:y is broken at window 25 only.
def _windows() -> list[tuple[datetime, list[CheckSignal]]]:
    out = []
    for i in range(30):
        accuracy = failing() if i >= 20 else passing()
        drift = failing("drift:x", value=0.3) if i in (5, 7, 9, 11, 13) else passing("drift:x")
        share = failing("missing_share:y") if i == 25 else passing("missing_share:y")
        out.append((T0 + i * HOUR, [accuracy, drift, share]))
    return out


def _backfill(sessions: sessionmaker[Session], *, hold: bool) -> None:
    for end, signals in _windows():
        _scan(sessions, end, signals, hold)
    if hold:
        with sessions() as session:
            release_held(
                session=session, model="churn", policy=AlertPolicy(), routing=Routing(), now=LATER
            )
            session.commit()


def _parents(fake: FakeSlack) -> list[dict[str, object]]:
    return [c.params for c in fake.calls_to("chat.postMessage") if "thread_ts" not in c.params]


def _replies(fake: FakeSlack) -> list[dict[str, object]]:
    return [c.params for c in fake.calls_to("chat.postMessage") if "thread_ts" in c.params]


def test_backfill_posts_one_parent_per_alert_still_open_and_nothing_for_closed_ones(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    _backfill(sessions, hold=True)
    tick(sessions, now=LATER, notifier=slack)
    [parent] = _parents(fake_slack)
    assert "accuracy" in str(parent["text"]) and "firing" in str(parent["text"])
    assert _replies(fake_slack) == [] and fake_slack.calls_to("chat.update") == []
    with sessions() as session:
        alerts = {a.check_id: a for a in session.scalars(select(Alert))}
        drift_events = list(
            session.scalars(
                select(AlertEvent.kind).where(AlertEvent.alert_id == alerts["drift:x"].id)
            )
        )
        pending = session.scalars(select(Notification).where(Notification.status == "pending"))
        assert list(pending) == []
    # Dated by the data; the ones that opened and closed inside it stay in the history.
    assert alerts["accuracy"].raised_at == T0 + 20 * HOUR
    assert alerts["accuracy"].state == "firing" and alerts["accuracy"].slack_ts is not None
    drift = alerts["drift:x"]
    assert (drift.state, drift.resolve_reason) == ("resolved", "recovered_in_backfill")
    assert drift.resolved_at == T0 + 14 * HOUR and drift.slack_ts is None
    assert drift_events.count("refired") == 4 and drift_events[-1] == "resolved"
    assert alerts["missing_share:y"].state == "resolved"


def test_notify_all_posts_every_change_as_it_happens(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    _backfill(sessions, hold=False)
    tick(sessions, now=LATER, notifier=slack)
    # A parent for each of the three alerts; replies: drift:x's first two flips, then one
    # flapping notice (its 4th change in 20 h) and one when it has been quiet for 10 h,
    # missing_share:y's recovery. Without flapping control: 10 replies (one per change).
    assert len(_parents(fake_slack)) == 3
    texts = [str(r["text"]) for r in _replies(fake_slack)]
    assert len(texts) == 5
    assert sum("Flapping: 4 changes" in t for t in texts) == 1
    assert sum("No longer flapping" in t for t in texts) == 1


def test_alert_posted_before_the_backfill_gets_one_edit_and_one_quiet_reply(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    run_scan(sessions, T0 - HOUR, [failing()])
    tick(sessions, now=T0 - HOUR, notifier=slack)
    for i, ok in enumerate([True, False, True, False]):
        _scan(sessions, T0 + i * HOUR, [passing() if ok else failing(value=0.5)], hold=True)
    with sessions() as session:
        release_held(
            session=session, model="churn", policy=AlertPolicy(), routing=Routing(), now=LATER
        )
        session.commit()
    tick(sessions, now=LATER, notifier=slack)
    assert len(_parents(fake_slack)) == 1  # the one posted before the backfill
    [reply] = _replies(fake_slack)
    assert reply["reply_broadcast"] is False
    assert "Backfill done (4 changes recorded, not posted): now firing" in str(reply["text"])
    [edit] = fake_slack.calls_to("chat.update")
    assert "0.5" in str(edit.params["blocks"])


def test_a_backfill_stopped_half_way_is_settled_by_the_next_release(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    _scan(sessions, T0, [failing()], hold=True)
    tick(sessions, now=LATER, notifier=slack)
    assert _parents(fake_slack) == []  # held: nothing goes out mid-backfill
    with sessions() as session:
        held = session.scalars(select(Notification.status)).all()
        assert set(held) == {"held"}
        release_held(
            session=session, model="churn", policy=AlertPolicy(), routing=Routing(), now=LATER
        )
        session.commit()
    tick(sessions, now=LATER, notifier=slack)
    assert len(_parents(fake_slack)) == 1
