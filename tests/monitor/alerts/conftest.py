"""Fixtures for the alerting tests: tables on the per-test database, a fake Slack, a clock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.conditions import CheckSignal
from monitor.alerts.evaluate import evaluate_scan
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.alerts.store import Transition
from monitor.slack.transport import SlackNotifier, make_client
from monitor.store import Base, make_sessionmaker
from tests.fakes.slack import FakeSlack
from tests.waiting import PATIENCE

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    Base.metadata.create_all(engine)
    return make_sessionmaker(engine)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack().running() as fake:
        yield fake


@pytest.fixture
def slack(fake_slack: FakeSlack) -> SlackNotifier:
    # The fake answers at once; a generous timeout keeps a busy machine from turning a slow
    # answer into a delivery error.
    client = make_client("xoxb-test", base_url=fake_slack.base_url, timeout=int(PATIENCE / 3))
    return SlackNotifier(client, interactive=True, public_url="https://monitor.example.com")


def failing(
    check_id: str = "accuracy",
    severity: str = "warning",
    value: float = 0.74,
    threshold: float = 0.80,
    segment: str | None = None,
) -> CheckSignal:
    return CheckSignal(
        check_id,
        False,
        severity,
        value,
        threshold,
        segment,
        f"{check_id} {value:.2f} < {threshold:.2f}",
    )


def passing(
    check_id: str = "accuracy",
    value: float = 0.9,
    threshold: float = 0.80,
    segment: str | None = None,
) -> CheckSignal:
    return CheckSignal(
        check_id,
        True,
        "warning",
        value,
        threshold,
        segment,
        f"{check_id} {value:.2f} >= {threshold:.2f}",
    )


def run_scan(
    sessions: sessionmaker[Session],
    window_end: datetime,
    signals: Sequence[CheckSignal],
    *,
    model: str = "churn",
    policy: AlertPolicy | None = None,
    routing: Routing | None = None,
    now: datetime | None = None,
) -> list[Transition]:
    """What the scan does: evaluate in the scan's transaction, then commit.

    ``now`` (the wall clock) defaults to the window end, as for a scan run right on time.
    """
    with sessions() as session:
        transitions = evaluate_scan(
            session=session,
            model=model,
            window_end=window_end,
            signals=signals,
            policy=policy or AlertPolicy(),
            routing=routing or Routing(),
            now=now or window_end,
        )
        session.commit()
    return transitions
