"""The scheduled Slack digest under `monitor run`: one post per firing across replicas."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.config import parse_config
from monitor.run.scheduler import Activity, build_scheduler
from monitor.run.service import DIGEST, DIGEST_GAP, Service
from monitor.sources import SourceEngines
from monitor.store import Heartbeat
from tests.fakes.slack import FakeSlack
from tests.monitor.scancore.conftest import model_dict


def _service(db_url: str, sessions: sessionmaker[Session], fake: FakeSlack) -> Service:
    config = parse_config(
        {
            "state_db": db_url,
            "sources": {"logs": {"url": db_url}},
            "slack": {
                "token": "xoxb-test",
                "channel": "#ml-alerts",
                "api_url": fake.base_url,
                "digest": {"schedule": "0 9 * * *"},
            },
            "models": [model_dict()],
        },
        file="test.yaml",
    )
    return Service(config=config, sessions=sessions, engines=SourceEngines(config.sources))


def test_two_replicas_firing_the_same_digest_post_it_once_and_the_next_firing_posts_again(
    db_url: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    first, second = (_service(db_url, sessions, fake_slack) for _ in range(2))
    first.digest()
    second.digest()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    with sessions() as session:  # the next day's firing
        beat = session.get(Heartbeat, DIGEST)
        assert beat is not None and beat.holder == first.holder
        beat.beat_at -= DIGEST_GAP + timedelta(seconds=1)
        session.commit()
    second.digest()
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 2 and posts[1].params["channel"] == "#ml-alerts"
    assert posts[1].params["text"].startswith("*Model health digest*")


def test_the_scheduler_runs_the_digest_on_its_cron_in_utc(
    db_url: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    service = _service(db_url, sessions, fake_slack)
    scheduler = build_scheduler(service, Activity())
    job = scheduler.get_job("digest")
    assert (
        job is not None
        and str(job.trigger) == "cron[month='*', day='*', day_of_week='*', hour='9', minute='0']"
    )
