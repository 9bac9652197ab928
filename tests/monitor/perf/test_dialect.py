"""monitor/dialect.py: the standard-SQL percentile (one query) against numpy's default."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from monitor import dialect


@pytest.mark.parametrize("values", [[7], [3, 1], [5, 1, 4, 1, 5, 9, 2, 6], list(range(1000))])
@pytest.mark.parametrize("q", [0.0, 0.01, 0.25, 0.5, 0.9, 0.999, 1.0])
def test_the_standard_percentile_interpolates_as_numpy_does_ignoring_nulls(
    values: list[int], q: float
) -> None:
    engine = sa.create_engine("sqlite://")
    table = sa.table("t", sa.column("x"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.execute(table.insert(), [{"x": v} for v in values] + [{"x": None}] * 3)
        rows = sa.select(table).subquery("w")
        got = conn.execute(sa.select(dialect.percentile(rows.c.x, q))).scalar()
    assert got == pytest.approx(np.quantile(values, q), rel=1e-12, abs=1e-12)


def test_the_percentile_of_no_values_is_null() -> None:
    engine = sa.create_engine("sqlite://")
    table = sa.table("t", sa.column("x"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x REAL)")
        conn.execute(table.insert(), [{"x": None}])
        rows = sa.select(table).subquery("w")
        assert conn.execute(sa.select(dialect.percentile(rows.c.x, 0.5))).scalar() is None
