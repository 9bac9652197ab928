"""Flapping (issue 15 item 4): a check that flips between firing and recovered posts one
flapping notice, its further flips are recorded but not posted, and it leaves that state
after a quiet period with one more message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.policy import AlertPolicy
from monitor.alerts.tick import tick
from monitor.alerts.wiring import policy_for
from monitor.config.schema import ModelConfig
from monitor.slack.transport import SlackNotifier
from monitor.store import Alert, AlertEvent
from tests.fakes.slack import FakeSlack
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan


def _flip(
    sessions: sessionmaker[Session], slack: SlackNotifier, windows: int, policy: AlertPolicy
) -> None:
    """A drift check failing every other window, delivered after each scan."""
    for i in range(windows):
        signal = failing("drift:x", value=0.3) if i % 2 == 0 else passing("drift:x")
        run_scan(sessions, T0 + i * HOUR, [signal], policy=policy)
        tick(sessions, now=T0 + i * HOUR, notifier=slack)


def _messages(fake: FakeSlack) -> list[str]:
    return [str(c.params["text"]) for c in fake.calls_to("chat.postMessage")]


def test_flapping_check_posts_one_notice_instead_of_a_message_per_flip(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    _flip(sessions, slack, 12, AlertPolicy())
    messages = _messages(fake_slack)
    # The parent, "recovered", "re-fired", then the 4th change is the flapping notice; the
    # next eight flips are not posted (nor edited into the message).
    assert len(messages) == 4
    assert "Flapping: 4 changes between firing and recovered in 20 h" in messages[3]
    edits = len(fake_slack.calls_to("chat.update"))
    with sessions() as session:
        [alert] = session.scalars(select(Alert))
        kinds = list(session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)))
    assert alert.flapping_since == T0 + 3 * HOUR
    assert kinds.count("refired") + kinds.count("recovered") == 11  # every flip recorded
    assert kinds.count("flapping") == 1
    # Quiet (failing, no flip) for flap_quiet = 10 h: one message, and posting resumes.
    for i in range(12, 12 + 11):
        run_scan(sessions, T0 + i * HOUR, [failing("drift:x", value=0.3)])
        tick(sessions, now=T0 + i * HOUR, notifier=slack)
    messages = _messages(fake_slack)
    assert len(messages) == 5 and "No longer flapping: now firing" in messages[4]
    assert len(fake_slack.calls_to("chat.update")) == edits + 1
    run_scan(sessions, T0 + 23 * HOUR, [passing("drift:x")])
    tick(sessions, now=T0 + 23 * HOUR, notifier=slack)
    assert "Recovered" in _messages(fake_slack)[-1]


def test_without_flap_control_every_flip_is_posted(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    _flip(sessions, slack, 12, AlertPolicy(flap_threshold=0))
    assert len(_messages(fake_slack)) == 12  # the parent and one reply per flip


def test_flips_spread_wider_than_the_flap_window_do_not_flap(
    sessions: sessionmaker[Session], fake_slack: FakeSlack, slack: SlackNotifier
) -> None:
    policy = AlertPolicy(flap_window=timedelta(hours=3), flap_quiet=timedelta(hours=2))
    _flip(sessions, slack, 8, policy)
    with sessions() as session:
        [alert] = session.scalars(select(Alert))
    assert alert.flapping_since is None
    assert len(_messages(fake_slack)) == 8


def test_flap_window_defaults_to_twenty_scan_intervals() -> None:
    model = ModelConfig.model_validate(
        {
            "name": "m",
            "source": "s",
            "table": "t",
            "timestamp": "ts",
            "prediction": "p",
            "reference": {"previous": "7d"},
            "schedule": {"every": "6h"},
            "window": "6h",
        }
    )
    policy = policy_for(model)
    assert (policy.flap_threshold, policy.flap_window) == (4, timedelta(hours=120))
    assert policy.flap_quiet == timedelta(hours=60)
