"""Connection pool bounds come from the config: `state_db_pool` and `sources.<name>.pool`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config, parse_config
from monitor.errors import ConfigError
from monitor.sources import SourceEngines
from monitor.store import make_engine


def _config(db_url: str, **extra: Any) -> Any:
    tree = {"state_db": db_url, "sources": {"logs": {"url": db_url}}} | extra
    return parse_config(tree, file="monitor.yaml")


def test_state_db_and_source_pools_take_their_bounds_from_the_config(db_url: str) -> None:
    config = _config(
        db_url,
        state_db_pool={"size": 3, "max_overflow": 1, "timeout": "2s"},
        sources={"logs": {"url": db_url, "pool": {"size": 2, "max_overflow": 0}}},
    )
    state = make_engine(config.state_db, pool=config.state_db_pool)
    with state.connect():  # creates the SQLite file the source reads
        pass
    with SourceEngines(config.sources) as engines:
        source = engines.engine("logs")
        bounds = [
            (e.pool.size(), e.pool._max_overflow, e.pool._timeout)  # type: ignore[attr-defined]
            for e in (state, source)
        ]
    state.dispose()
    assert bounds == [(3, 1, 2.0), (2, 0, 30.0)]


def test_pool_defaults_are_the_documented_ones(db_url: str) -> None:
    config = _config(db_url)
    pools = (config.state_db_pool, config.sources["logs"].pool)
    seconds = [(p.size, p.max_overflow, p.timeout.total_seconds()) for p in pools]
    assert seconds == [(10, 10, 10.0), (5, 10, 30.0)]


def test_an_in_memory_sqlite_state_db_ignores_the_bounds() -> None:
    config = parse_config({"state_db": "sqlite://"}, file="monitor.yaml")
    engine = make_engine(config.state_db, pool=config.state_db_pool)
    with engine.connect():
        pass
    engine.dispose()


def test_a_pool_without_room_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"state_db_pool\.size"):
        parse_config({"state_db_pool": {"size": 0}}, file="monitor.yaml")


def test_the_pool_example_in_the_config_reference_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "config.md").read_text()
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "state_db_pool" in b]
    path = tmp_path / "monitor.yaml"
    path.write_text(example)
    config = load_config(path, env={"PREDICTIONS_DB_URL": "postgresql+psycopg://u@h/db"})
    assert (config.state_db_pool.size, config.sources["prod"].pool.max_overflow) == (20, 5)
