"""The scheduled Slack digest, posted to a fake Slack over real HTTP by slack_sdk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config, parse_config
from monitor.errors import ConfigError
from monitor.slack.digest import post_digest
from monitor.slack.transport import make_client
from monitor.store import record_retraining
from tests.fakes.slack import FakeSlack
from tests.monitor.dashboard.conftest import NOW, THRESHOLDS, store_scan
from tests.monitor.scancore.conftest import day, model_dict


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack().running() as fake:
        yield fake


def _config(url: str, **digest: Any) -> Config:
    tree = {
        "state_db": url,
        "sources": {"logs": {"url": url}},
        "slack": {"token": "xoxb-test", "channel": "#ml-alerts", "digest": digest},
        "models": [
            model_dict(checks={"thresholds": THRESHOLDS}),
            model_dict(name="eta", checks={"thresholds": THRESHOLDS}),
        ],
    }
    return parse_config(tree, file="test.yaml")


def test_digest_lists_models_worst_first_in_the_digest_channel(
    migrated: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    config = _config(migrated, schedule="0 9 * * 1-5", channel="#ml-health")
    for end_day in (4, 5, 6):
        store_scan(sessions, config, end_day, accuracy=0.9 if end_day < 6 else 0.7, age=0.4)
    client = make_client("xoxb-test", base_url=fake_slack.base_url)
    with sessions() as session:
        post_digest(config, session=session, now=NOW, client=client)
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.params["channel"] == "#ml-health"
    lines = call.params["text"].splitlines()
    assert lines[0].endswith("2 red")  # churn: critical accuracy; eta: never scanned
    assert lines[1] == (
        ":red_circle: *churn*: accuracy 0.7 < 0.8 (critical) · 1 unacknowledged alert(s)"
    )
    assert lines[2].strip().startswith("• accuracy 0.7 < 0.8 (critical)")
    assert any(line.startswith(":red_circle: *eta*: never scanned") for line in lines)


def test_a_bad_digest_schedule_is_a_config_error_naming_the_key(migrated: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(migrated, schedule="every morning")
    assert "slack.digest.schedule" in str(caught.value)


def test_the_digest_shows_each_models_last_and_next_retraining(
    migrated: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    tree = {
        "state_db": migrated,
        "sources": {"logs": {"url": migrated}},
        "slack": {
            "token": "xoxb-test",
            "channel": "#ml-alerts",
            "digest": {"schedule": "0 9 * * *"},
        },
        "models": [
            model_dict(checks={"thresholds": THRESHOLDS}, retraining={"schedule": "0 3 1 * *"}),
            model_dict(name="eta", checks={"thresholds": THRESHOLDS}),
        ],
    }
    config = parse_config(tree, file="test.yaml")
    with sessions() as session:
        record_retraining(
            session=session, model="churn", at=day(3), recorded_at=NOW, source="api", version="v2"
        )
        session.commit()
    client = make_client("xoxb-test", base_url=fake_slack.base_url)
    with sessions() as session:
        post_digest(config, session=session, now=NOW, client=client)
    [call] = fake_slack.calls_to("chat.postMessage")
    lines = call.params["text"].splitlines()
    churn = next(i for i, line in enumerate(lines) if "*churn*" in line)
    assert lines[churn + 1] == (
        "    last retraining: 2026-03-04T00:00:00Z (version v2); "
        "next retraining: 2026-04-01T03:00:00Z"
    )
    assert not any("retraining" in line for line in lines if "eta" in line)
    assert sum("retraining:" in line for line in lines) == 1  # eta has neither
