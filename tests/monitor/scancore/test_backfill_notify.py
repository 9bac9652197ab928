"""``monitor scan --from/--to`` end to end against the fake Slack (issue 15 item 2): a
backfill posts one parent per alert still open at its end; ``--notify all`` every change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.alerts.tick import tick as tick_alerts
from monitor.cli import main
from monitor.config import load_config
from monitor.run import service
from monitor.run.notifiers import build_notifier
from monitor.sources import SourceEngines
from monitor.store import Alert, make_sessionmaker
from tests.fakes.slack import FakeSlack
from tests.monitor.scancore.conftest import T0, log_frame, model_dict, write

DAY = timedelta(days=1)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack().running() as fake:
        yield fake


@pytest.fixture
def config(db_url: str, engine: Engine, tmp_path: Path, fake_slack: FakeSlack) -> str:
    # Two full days, two thin ones (120 rows), three full ones.
    write(
        engine,
        pd.concat(
            [
                log_frame(T0, 48),
                log_frame(T0 + 2 * DAY, 48, per_hour=5, seed=1),
                log_frame(T0 + 4 * DAY, 72, seed=2),
            ]
        ),
        "preds",
    )
    thresholds = [
        {"metric": "accuracy", "min": 0.99, "severity": "critical"},  # fails every day
        {"metric": "row_count", "min": 300, "severity": "warning"},  # fails the thin days
    ]
    tree = {
        "state_db": db_url,
        "sources": {"logs": {"url": db_url}},
        "slack": {"token": "xoxb-test", "channel": "#ml-alerts", "api_url": fake_slack.base_url},
        "models": [model_dict(checks={"drift": {"mode": "evidently"}, "thresholds": thresholds})],
    }
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    _main("db", "upgrade", "-c", str(path))
    return str(path)


def _main(*args: str) -> None:
    try:
        main(list(args))
    except SystemExit as exc:
        assert not exc.code


def _scan(config: str, *extra: str) -> None:
    _main("scan", "--from", "2026-03-03", "--to", "2026-03-08", *extra, "-c", config)


def _counts(fake: FakeSlack) -> tuple[int, int]:
    """(parents, thread replies) about the backfilled windows. The tick after the scans also
    judges staleness at the real time, months after these windows: that alert is left out."""
    posts = [c for c in fake.calls_to("chat.postMessage") if "stale" not in str(c.params)]
    replies = sum("thread_ts" in c.params for c in posts)
    return len(posts) - replies, replies


def test_backfill_posts_once_per_alert_open_at_its_end(
    config: str, fake_slack: FakeSlack, engine: Engine
) -> None:
    _scan(config)
    assert _counts(fake_slack) == (1, 0)
    with Session(engine) as session:
        alerts = {a.check_id: a for a in session.scalars(select(Alert))}
    assert alerts["accuracy"].slack_ts is not None
    assert alerts["accuracy"].raised_at == T0 + 2 * DAY  # data time: the first window end
    row_count = alerts["row_count"]
    assert (row_count.state, row_count.resolve_reason) == ("resolved", "recovered_in_backfill")
    assert row_count.raised_at == T0 + 3 * DAY and row_count.slack_ts is None


def test_notify_all_posts_every_change(config: str, fake_slack: FakeSlack) -> None:
    _scan(config, "--notify", "all")
    assert _counts(fake_slack) == (2, 1)  # two parents and row_count's recovery


@pytest.mark.parametrize(("backfill_after", "expected"), [(3, (1, 0)), (6, (2, 1))])
def test_a_long_catch_up_in_monitor_run_is_a_backfill(
    config: str,
    fake_slack: FakeSlack,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    backfill_after: int,
    expected: tuple[int, int],
) -> None:
    """Six missed windows: more than run.backfill_after (3) notify once at the end; with
    backfill_after: 6 they are an ordinary catch-up and every change is posted."""
    settings = load_config(config)
    settings = settings.model_copy(
        update={"run": settings.run.model_copy(update={"backfill_after": backfill_after})}
    )
    missed = [T0 + i * DAY for i in range(2, 8)]
    monkeypatch.setattr(service, "due_windows", lambda *_a, **_k: missed)
    with SourceEngines(settings.sources) as engines:
        run = service.Service(config=settings, sessions=make_sessionmaker(engine), engines=engines)
        run.scan_model("churn")
    with Session(engine) as session:
        tick_alerts(session, now=datetime.now(UTC), notifier=build_notifier(settings))
    assert _counts(fake_slack) == expected
