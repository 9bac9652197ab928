"""A source query has a time limit: ``statement_timeout`` per source (issue 12, item 13).

PostgreSQL enforces it (``SET statement_timeout`` on every source connection, and in the
options of the connections the ADBC fast path opens itself). The slow source here is a view
whose one-row join sleeps 60 s: without a limit the scan would take a minute and succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.scans import run_scan
from monitor.sources import SourceEngines, fastread
from tests.monitor.scancore.conftest import T0, day, log_frame, model_dict, write

Engines = Callable[[Config], SourceEngines]
pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def _config(url: str, source: dict[str, object] | None = None, **model: object) -> Config:
    from monitor.config import parse_config

    source = {"url": url, **(source or {})}
    tree = {"state_db": url, "sources": {"logs": source}, "models": [model_dict(**model)]}
    return parse_config(tree, file="test.yaml")


def _slow_view(engine: Engine) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    with engine.begin() as conn:
        conn.execute(
            sa.text("CREATE VIEW slow_preds AS SELECT p.* FROM preds p, (SELECT pg_sleep(60)) s")
        )


def test_a_query_running_past_statement_timeout_is_cancelled_naming_the_model(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    _slow_view(engine)
    # A table reference keeps the reference read off the slow view: the live read trips.
    write(engine, log_frame(T0, 24), "training")
    config = _config(
        db_url, {"statement_timeout": "1s"}, table="slow_preds", reference={"table": "training"}
    )
    report = run_scan(config.model("churn"), day(2), engines=engines_for(config), session=session)
    assert report.status == "error"
    assert report.error is not None
    assert report.error.startswith("model 'churn': a query on source 'logs' ran longer than")
    assert "statement_timeout 1s" in report.error
    # The scan gave up at the limit, not after the view's minute of sleep.
    assert report.finished_at is not None
    assert report.finished_at - report.started_at < timedelta(seconds=50)


def test_the_fast_read_path_keeps_the_limit(db_url: str, engines_for: Engines) -> None:
    # ADBC opens its own connection to the same database: the limit goes with it.
    engines = engines_for(_config(db_url, {"statement_timeout": "1s"}))
    slow = sa.select(sa.func.pg_sleep(60).label("slept"))
    with engines.engine("logs").connect() as conn, pytest.raises(sa.exc.DBAPIError) as raised:
        fastread.fast_frame(conn, slow)
    assert "statement timeout" in str(raised.value)


def test_source_connections_get_five_minutes_by_default(db_url: str, engines_for: Engines) -> None:
    engines = engines_for(_config(db_url))
    with engines.engine("logs").connect() as conn:
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "5min"
        conn.rollback()  # a session setting: it outlives the transaction
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "5min"


def test_statement_timeout_can_be_turned_off(db_url: str, engines_for: Engines) -> None:
    engines = engines_for(_config(db_url, {"statement_timeout": None}))
    with engines.engine("logs").connect() as conn:
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "0"
