"""Issue 15's scenario end to end (tests/monitor/alerts/houses.py): a 30-window backfill of a
regression model with 8 districts of very different sizes, through `monitor scan --from/--to`
and the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts.wiring import alerting_checks
from monitor.cli import main
from monitor.config import load_config
from monitor.store import Alert, CheckResult, Scan, make_engine, make_sessionmaker, migrate
from tests.conftest import BACKENDS, _fresh_postgres_database
from tests.fakes.slack import Call, FakeSlack
from tests.monitor.alerts import houses


@dataclass(frozen=True)
class Backfill:
    session: Session
    slack: FakeSlack
    config: Path

    def alerts(self) -> list[Alert]:
        return list(self.session.scalars(select(Alert).order_by(Alert.id)))

    def failing(self) -> list[tuple[str, str, datetime]]:
        """(check, segment, window end) of every alerting result that failed."""
        model = load_config(str(self.config)).model("houses")
        query = (
            select(CheckResult.check, CheckResult.segment, Scan.window_end)
            .join(Scan, CheckResult.scan_id == Scan.id)
            .where(CheckResult.passed.is_(False), CheckResult.severity.is_not(None))
            .where(CheckResult.check.in_(alerting_checks(model)))
        )
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]


@pytest.fixture(scope="module", params=BACKENDS)
def backfill(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backfill]:
    """One backfill per backend, read by every test of this module (it takes minutes)."""
    folder = tmp_path_factory.mktemp("houses")
    if request.param == "sqlite":
        yield from _backfill(f"sqlite:///{folder / 'state.db'}", folder)
        return
    for url in _fresh_postgres_database(request.getfixturevalue("postgres_admin")):
        yield from _backfill(url.render_as_string(hide_password=False), folder)


@pytest.fixture(scope="module", params=BACKENDS)
def notify_all(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backfill]:
    """The same backfill with ``--notify all``: every change notified as it happens."""
    folder = tmp_path_factory.mktemp("houses-all")
    if request.param == "sqlite":
        yield from _backfill(f"sqlite:///{folder / 'state.db'}", folder, "--notify", "all")
        return
    for url in _fresh_postgres_database(request.getfixturevalue("postgres_admin")):
        yield from _backfill(url.render_as_string(hide_password=False), folder, "--notify", "all")


def _backfill(url: str, folder: Path, *options: str) -> Iterator[Backfill]:
    houses.write_data(url)
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with FakeSlack().running() as fake:
            config = houses.write_config(url, fake.base_url, folder)
            _run(houses.backfill_args(config, *options))
            with make_sessionmaker(engine)() as session:
                yield Backfill(session, fake, config)
    finally:
        engine.dispose()


def _run(args: list[str]) -> None:
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, f"monitor {' '.join(args)} exited {exc.code}"


def _window_end(live_day: int) -> datetime:
    return houses.first_window_end() + timedelta(days=live_day)


def test_every_alert_is_dated_by_the_first_window_its_check_failed_in(backfill: Backfill) -> None:
    first: dict[str, datetime] = {}
    for check, _segment, end in sorted(backfill.failing(), key=lambda row: row[2]):
        first.setdefault(check, end)
    alerts = backfill.alerts()
    # One alert per check (recovered alerts stay open through the backfill and re-fire).
    assert sorted(a.check_id for a in alerts) == sorted(first)
    assert {a.check_id: a.raised_at for a in alerts} == first
    # The real shift: drift from its first window, mae three days later (labels are late).
    assert first["drift:sqft"] == _window_end(houses.SHIFT_FROM)
    assert first["mae"] == _window_end(houses.SHIFT_FROM + 3)
    assert first[houses.FLIPS] == _window_end(1)


def test_small_districts_are_insufficient_data_and_never_alert(backfill: Backfill) -> None:
    small = list(
        backfill.session.execute(
            select(CheckResult.check, CheckResult.passed, CheckResult.reason).where(
                CheckResult.segment.in_(houses.SMALL),
                CheckResult.check.in_(["drift:sqft", "drift:rooms", "mae", "dataset_drift"]),
            )
        )
    )
    assert small and {passed for _, passed, _ in small} == {None}
    assert all((reason or "").startswith("insufficient data") for _, _, reason in small)
    for alert in backfill.alerts():
        assert alert.segment == ""
        assert not {s["segment"] for s in alert.segments} & set(houses.SMALL)
    sqft = next(a for a in backfill.alerts() if a.check_id == "drift:sqft")
    judged = [d for d in houses.DISTRICTS if d not in houses.SMALL]
    assert sorted(s["segment"] for s in sqft.segments) == sorted(judged)


def test_volume_thresholds_judge_the_whole_window_only(backfill: Backfill) -> None:
    """Every district has fewer rows than `row_count min: 1000`; the model has 2022 a day."""
    row_counts = list(
        backfill.session.scalars(
            select(CheckResult.segment).where(CheckResult.check == "row_count")
        )
    )
    assert set(row_counts) == {""} and len(row_counts) == houses.WINDOWS
    assert "row_count" not in {a.check_id for a in backfill.alerts()}


def test_the_backfill_posts_one_parent_per_check_still_failing_and_nothing_else(
    backfill: Backfill,
) -> None:
    alerts = backfill.alerts()
    failing = sorted(a.check_id for a in alerts if a.state in ("firing", "acknowledged"))
    posts = houses.count(backfill.slack.calls)
    assert (posts.parents, posts.replies) == (len(failing), 0)
    assert sorted(a.check_id for a in alerts if a.slack_ts) == failing
    assert {"drift:sqft", "prediction_drift", "target_drift", "mae", houses.FLIPS} <= set(failing)
    # Opened and closed inside the backfill: in the history, never posted.
    closed = [a for a in alerts if a.state == "resolved"]
    assert "drift:lot" in {a.check_id for a in closed}
    assert all(a.slack_ts is None for a in closed)
    assert {a.resolve_reason for a in closed} == {"recovered_in_backfill"}


def test_the_parent_of_the_real_shift_lists_its_failing_districts(backfill: Backfill) -> None:
    sqft = next(a for a in backfill.alerts() if a.check_id == "drift:sqft")
    [parent] = _messages(backfill, sqft)
    shown = str(parent.params["blocks"])
    assert "Failing segments (5)" in shown and "central (warning)" in shown
    assert not any(f"{d} (" in shown for d in houses.SMALL)


def test_the_flipping_check_is_one_flapping_alert(backfill: Backfill) -> None:
    rooms = next(a for a in backfill.alerts() if a.check_id == houses.FLIPS)
    assert rooms.flapping_since is not None and rooms.occurrences > 10
    parent = _messages(backfill, rooms)
    assert len(parent) == 1 and "flapping since" in str(parent[0].params["blocks"])


def test_with_notify_all_the_flipping_check_posts_one_flapping_notice(
    notify_all: Backfill,
) -> None:
    rooms = next(a for a in notify_all.alerts() if a.check_id == houses.FLIPS)
    messages = _messages(notify_all, rooms)
    flapping = [m for m in messages if m.params["text"].startswith(":repeat: Flapping")]
    assert len(flapping) == 1
    # raised, recovered, re-fired, the notice: then ~25 more flips recorded, not posted
    assert len(messages) <= 5 < rooms.occurrences
    posts = houses.count(notify_all.slack.calls)
    assert posts.parents == len(notify_all.alerts())


def _messages(run: Backfill, alert: Alert) -> list[Call]:
    """The parent of ``alert`` (its header names the check) and its thread replies."""
    assert alert.slack_ts is not None
    return [
        c
        for c in run.slack.calls
        if c.method == "chat.postMessage"
        and (c.params.get("thread_ts") == alert.slack_ts or _parent_of(c, alert))
    ]


def _parent_of(call: Call, alert: Alert) -> bool:
    if call.params.get("thread_ts"):
        return False
    header = str(call.params["blocks"][0]["text"]["text"])
    return header.endswith(f"{alert.model}: {alert.check_id}")
