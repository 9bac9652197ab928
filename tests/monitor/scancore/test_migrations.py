from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from monitor.alerts.notify import ThreadEvent
from monitor.slack.render import reply_text
from monitor.store import Alert, Base, CheckResult, Notification, Scan, make_sessionmaker, migrate


def test_migrations_create_exactly_the_models_tables(db_url: str, engine: Engine) -> None:
    migrate.upgrade(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
    assert {"scan", "check_result", "reference_profile"} <= set(inspect(engine).get_table_names())


def test_upgrade_twice_is_a_no_op_and_records_the_head(db_url: str) -> None:
    migrate.upgrade(db_url)
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.heads()
    assert "20261124_01" in migrate.history()


def _scan(model: str, end: datetime) -> Scan:
    return Scan(
        model=model,
        window_start=end - timedelta(days=1),
        window_end=end,
        reference={"kind": "previous"},
        config_hash="abc",
        status="ok",
        started_at=end,
        finished_at=end,
    )


def test_times_come_back_as_aware_utc_on_every_backend(db_url: str, engine: Engine) -> None:
    migrate.upgrade(db_url)
    plus_two = timezone(timedelta(hours=2))
    end = datetime(2026, 3, 1, 14, 0, tzinfo=plus_two)
    with make_sessionmaker(engine)() as session:
        session.add(_scan("churn", end))
        session.commit()
    with make_sessionmaker(engine)() as session:
        stored = session.query(Scan).one()
    assert stored.window_end == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert stored.window_end.utcoffset() == timedelta(0)


def test_a_second_scan_of_the_same_window_is_refused_by_the_database(
    db_url: str, engine: Engine
) -> None:
    migrate.upgrade(db_url)
    end = datetime(2026, 3, 1, tzinfo=UTC)
    with make_sessionmaker(engine)() as session:
        session.add(_scan("churn", end))
        session.commit()
        session.add(_scan("churn", end))
        with pytest.raises(IntegrityError):
            session.commit()


def test_deleting_a_scan_deletes_its_results(db_url: str, engine: Engine) -> None:
    migrate.upgrade(db_url)
    with make_sessionmaker(engine)() as session:
        scan = _scan("churn", datetime(2026, 3, 1, tzinfo=UTC))
        scan.results.append(CheckResult(check="accuracy", method="accuracy", details={}))
        session.add(scan)
        session.commit()
        session.delete(scan)
        session.commit()
        assert session.query(CheckResult).count() == 0


def test_notifications_queued_before_events_keep_their_words(db_url: str, engine: Engine) -> None:
    """Rows pending at the upgrade that added notification.event/data are still delivered
    as they were written: the reply as a "text" event, the post with its mention."""
    migrate.upgrade(db_url, "20261201_01")
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with make_sessionmaker(engine)() as session:
        alert = Alert(
            model="churn",
            check_id="accuracy",
            segment="",
            state="firing",
            severity="warning",
            condition="warning",
            occurrences=1,
            summary="accuracy 0.7 < min 0.8",
            raised_at=t0,
            version=1,
        )
        session.add(alert)
        session.flush()
        for kind, words in [("post", "<!here>"), ("update", ""), ("reply", ":bell: Still open")]:
            session.execute(
                text(
                    "INSERT INTO notification (alert_id, kind, channel, text, broadcast, status,"
                    " attempts, created_at, next_attempt_at) VALUES (:alert, :kind, '#ml',"
                    " :words, false, 'pending', 0, :t0, :t0)"
                ),
                {"alert": alert.id, "kind": kind, "words": words, "t0": t0},
            )
        session.commit()
    migrate.upgrade(db_url)
    with make_sessionmaker(engine)() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        stored = [(r.kind, r.event, r.data) for r in rows]
    assert stored == [
        ("post", "", {"mention": "<!here>"}),
        ("update", "", {}),
        ("reply", "text", {"text": ":bell: Still open"}),
    ]
    assert reply_text(ThreadEvent(rows[2].event, rows[2].data)) == ":bell: Still open"
