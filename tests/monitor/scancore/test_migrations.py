from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from monitor.store import Base, CheckResult, Scan, make_sessionmaker, migrate


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
