from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.alerts.notify import ThreadEvent
from monitor.slack.render import reply_text
from monitor.store import (
    Alert,
    AlertEvent,
    Base,
    CheckResult,
    Notification,
    PerformanceEstimate,
    Scan,
    make_sessionmaker,
    migrate,
)


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
        # Raw SQL: the ORM model has columns added by later revisions.
        _insert_alert(session, t0)
        alert_id = session.execute(text("SELECT id FROM alert")).scalar_one()
        for kind, words in [("post", "<!here>"), ("update", ""), ("reply", ":bell: Still open")]:
            session.execute(
                text(
                    "INSERT INTO notification (alert_id, kind, channel, text, broadcast, status,"
                    " attempts, created_at, next_attempt_at) VALUES (:alert, :kind, '#ml',"
                    " :words, false, 'pending', 0, :t0, :t0)"
                ),
                {"alert": alert_id, "kind": kind, "words": words, "t0": t0},
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


def test_alerts_written_before_data_time_keep_their_times_as_recorded(
    db_url: str, engine: Engine
) -> None:
    """The upgrade that added recorded_at fills it with the wall-clock times already stored."""
    migrate.upgrade(db_url, "20261202_01")
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with make_sessionmaker(engine)() as session:
        _insert_alert(session, t0)
        alert_id = session.execute(text("SELECT id FROM alert")).scalar_one()
        session.execute(
            text(
                "INSERT INTO alert_event (alert_id, at, kind, to_state, severity, actor, reason,"
                " details) VALUES (:alert, :at, 'raised', 'firing', 'warning', 'scan', '', '{}')"
            ),
            {"alert": alert_id, "at": t0 + timedelta(minutes=5)},
        )
        session.commit()
    migrate.upgrade(db_url)
    with make_sessionmaker(engine)() as session:
        alert = session.scalars(select(Alert)).one()
        event = session.scalars(select(AlertEvent)).one()
    assert (alert.raised_at, alert.recorded_at) == (t0, t0)
    assert (event.at, event.recorded_at) == (t0 + timedelta(minutes=5),) * 2


def _insert_alert(session: Session, raised_at: datetime) -> None:
    session.execute(
        text(
            "INSERT INTO alert (model, check_id, segment, state, severity, condition,"
            " occurrences, summary, raised_at, version) VALUES ('churn', 'accuracy', '',"
            " 'firing', 'warning', 'warning', 1, 'accuracy 0.7 < min 0.8', :t0, 1)"
        ),
        {"t0": raised_at},
    )


def test_estimates_stored_before_the_segment_column_are_the_whole_windows(
    db_url: str, engine: Engine
) -> None:
    """Revision 20261204_10 adds ``segment`` to performance_estimate: the rows stored before
    it read as the whole window's, and a segment's estimate of the same window fits beside
    them (the unique key gained the segment); a downgrade keeps the whole window's."""
    migrate.upgrade(db_url, "20261203_50")
    end = datetime(2026, 3, 5, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO performance_estimate (model, metric, window_start, window_end,"
                " estimated) VALUES ('churn', 'accuracy', :start, :end, 0.8)"
            ),
            {"start": end - timedelta(days=1), "end": end},
        )
    migrate.upgrade(db_url)
    with make_sessionmaker(engine)() as session:
        (old,) = session.scalars(select(PerformanceEstimate)).all()
        assert (old.segment, old.estimated) == ("", 0.8)
        session.add(
            PerformanceEstimate(
                model="churn", metric="accuracy", segment="north",
                window_start=end - timedelta(days=1), window_end=end, estimated=0.6,
            )
        )  # fmt: skip
        session.commit()
        session.add(
            PerformanceEstimate(
                model="churn", metric="accuracy", segment="north",
                window_start=end - timedelta(days=1), window_end=end, estimated=0.5,
            )
        )  # fmt: skip
        with pytest.raises(IntegrityError):
            session.commit()
    command.downgrade(migrate.alembic_config(db_url), "20261203_50")
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT metric, estimated FROM performance_estimate")).all()
    assert [tuple(r) for r in kept] == [("accuracy", 0.8)]


def test_reference_summaries_move_to_their_own_table_and_back(db_url: str, engine: Engine) -> None:
    """Revision 20261205_10 moves each cached summary's bytes to ``reference_payload`` under
    its row's id, unchanged; the summary reads back through it (SQLite's blob I/O included);
    deleting the row deletes its payload; a downgrade puts the bytes back in the row."""
    from monitor import dialect
    from monitor.store import ReferencePayload, ReferenceProfile

    migrate.upgrade(db_url, "20261204_10")
    stored = {"a" * 64: os.urandom(3_000_001), "b" * 64: b"\x00small\xff"}
    with engine.begin() as conn:
        for fingerprint, payload in stored.items():
            conn.execute(
                text(
                    "INSERT INTO reference_profile (model, fingerprint, descriptor, rows,"
                    " profiles, metrics, created_at) VALUES ('churn', :f, '{}', 7, :p,"
                    " '{\"x\": 1}', :t)"
                ),
                {"f": fingerprint, "p": payload, "t": datetime(2026, 3, 1, tzinfo=UTC)},
            )
    migrate.upgrade(db_url)
    with make_sessionmaker(engine)() as session:
        rows = {r.fingerprint: r for r in session.scalars(select(ReferenceProfile))}
        assert {f: (r.rows, r.metrics) for f, r in rows.items()} == dict.fromkeys(
            stored, (7, {"x": 1})
        )
        for fingerprint, payload in stored.items():
            key = rows[fingerprint].id
            assert dialect.large_value(session, ReferencePayload.profiles, key) == payload
        session.execute(delete(ReferenceProfile).where(ReferenceProfile.fingerprint == "b" * 64))
        session.commit()
        assert session.scalars(select(ReferencePayload.profile_id)).all() == [rows["a" * 64].id]
    command.downgrade(migrate.alembic_config(db_url), "20261204_10")
    with engine.connect() as conn:
        back = conn.execute(text("SELECT fingerprint, profiles FROM reference_profile")).all()
        assert "reference_payload" not in inspect(conn).get_table_names()
    assert [(f, bytes(p)) for f, p in back] == [("a" * 64, stored["a" * 64])]
