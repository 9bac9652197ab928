"""Config text never becomes SQL beyond one read-only SELECT; identifiers are quoted or refused."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor.config import Config
from monitor.sources import ModelLog, SourceEngines, SourceError, check_read_only, query_relation
from monitor.sources.validate import check_model
from monitor.windows import Window
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write

Engines = Callable[[Config], SourceEngines]
DROP = "DROP TABLE preds"

HOSTILE_QUERIES = {
    "second statement": f"SELECT * FROM preds; {DROP}",
    "second statement after a comment": f"SELECT * FROM preds -- note\n; {DROP}",
    "cte that deletes": "WITH gone AS (DELETE FROM preds RETURNING *) SELECT * FROM gone",
    "cte that inserts": "WITH x AS (INSERT INTO preds (age) VALUES (1) RETURNING *) SELECT 1",
    "select into": "SELECT * INTO stolen FROM preds",
    "select into after a comment": "SELECT * /* copy */ INTO stolen FROM preds",
    "row locks": "SELECT * FROM preds FOR UPDATE",
    "shared row locks": "SELECT * FROM preds FOR SHARE",
    "escape string hides a statement": f"SELECT E'\\'' ; {DROP}; --'",
    "dollar quote hides a statement": f"SELECT $$'$$ ; {DROP}; --'",
    "quoted identifier hides a statement": f'SELECT "a\'" ; {DROP}; --\'"',
    "nested comment hides a statement": f"SELECT 1 /* /* */ ' */ ; {DROP}; -- '",
    "mysql hash comment hides a statement": f"SELECT 1 # '\n; {DROP}; -- '",
    "mysql dash comment without space": f"SELECT 1 --'\n; {DROP}",
    "closing paren escapes the subquery": "SELECT 1) AS x, (SELECT 2",
    "unterminated string": "SELECT 'abc FROM preds",
    "unterminated comment": "SELECT 1 /* never closed",
    "sequence side effect": "SELECT nextval('s')",
    "not a select": "DELETE FROM preds",
    "copy to a file": "COPY preds TO '/tmp/out'",
}


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_hostile_query_is_refused_naming_the_model(query: str) -> None:
    with pytest.raises(SourceError, match="model 'churn': query"):
        check_read_only(query, model="churn")


@pytest.mark.parametrize(
    "query",
    [
        "WITH recent AS (SELECT * FROM preds WHERE age > 30) SELECT * FROM recent",
        "SELECT * FROM preds WHERE plan <> 'it''s; DROP TABLE preds'",
        'SELECT age AS "delete; me", plan FROM preds -- a trailing note',
        "SELECT /* all rows */ * FROM preds;",
        "select p.*, count(*) over (partition by plan) as n from preds p",
    ],
)
def test_plain_read_only_selects_are_accepted(query: str) -> None:
    assert check_read_only(query, model="churn") == query.rstrip(";")


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_hostile_query_in_config_leaves_the_source_intact(engine: Engine, query: str) -> None:
    write(engine, log_frame(T0, 2), "preds")
    with pytest.raises(SourceError):
        query_relation(engine, query, model="churn")
    assert sa.inspect(engine).has_table("preds")
    assert not sa.inspect(engine).has_table("stolen")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM preds")).scalar_one() == 40


HOSTILE_NAMES = [
    'x"; DROP TABLE preds; --',
    "x'; DROP TABLE preds; --",
    "preds; DROP TABLE preds",
    "âge ünïcødé 列",
    'quote"inside',
    "back`tick",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_table_name_is_reported_as_not_found(
    db_url: str, engine: Engine, engines_for: Engines, name: str
) -> None:
    write(engine, log_frame(T0, 2), "preds")
    config = make_config(db_url, model_dict(table=name))
    problems = check_model(config.model("churn"), engines_for(config))
    assert len(problems) == 1 and "not found" in problems[0] and "churn" in problems[0]
    assert sa.inspect(engine).has_table("preds")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_column_name_not_in_the_table_is_refused_by_name(
    db_url: str, engine: Engine, engines_for: Engines, name: str
) -> None:
    write(engine, log_frame(T0, 2), "preds")
    config = make_config(db_url, model_dict(features={"numerical": [name], "categorical": []}))
    problems = check_model(config.model("churn"), engines_for(config))
    assert problems and all(name in p and "not found" in p for p in problems)
    assert sa.inspect(engine).has_table("preds")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_column_name_that_exists_is_quoted_and_read_verbatim(
    db_url: str, engine: Engine, engines_for: Engines, name: str
) -> None:
    frame = log_frame(T0, 2).rename(columns={"age": name})
    write(engine, frame, "preds")
    config = make_config(db_url, model_dict(features={"numerical": [name], "categorical": []}))
    log = ModelLog(config.model("churn"), engines_for(config))
    rows = log.rows(Window(day(0), day(1)), ["ts", name], with_target=False)
    expected = frame.sort_values("ts")[name].reset_index(drop=True)
    got = rows.sort_values("ts")[name].reset_index(drop=True)
    pd.testing.assert_series_equal(got, expected, check_names=False, check_dtype=False)
    assert sa.inspect(engine).has_table("preds")
