"""Window summaries computed inside the source database (warehouse mode).

Only aggregates travel: row and null counts, value counts of categorical columns, counts of
numerical columns per reference-quantile bin, confusion counts and percentiles. Every
statement is SQLAlchemy Core over the same window SELECT the plain path reads (so a query
source, a labels join and the window bounds behave alike), with bound parameters, and runs
on any dialect with ``CASE``, ``GROUP BY`` and ``ORDER BY ... LIMIT``. Percentiles use the
dialect's own function where it has one (PostgreSQL ``percentile_cont``, DuckDB
``quantile_cont``), elsewhere one query picking the two order statistics with
``row_number()`` and interpolating as numpy does (monitor/dialect.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import sqlalchemy as sa

from monitor import dialect
from monitor.sources.logs import ModelLog
from monitor.windows import Window

#: bins per numerical column: the reference's quantiles at 1/20, 2/20, ... (deduplicated)
BINS = 20


def window_rows(log: ModelLog, window: Window, columns: list[str], *, target: bool) -> sa.Subquery:
    """The window's rows as a subquery to aggregate over (nothing is read yet)."""
    stmt = log.select(columns, with_target=target).where(*log.within(window))
    return stmt.subquery("w")


def quantile_edges(sorted_values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Interior bin edges: distinct reference quantiles (bins are ``[e_k, e_k+1)``)."""
    if sorted_values.size == 0:
        return np.zeros(0)
    picks = np.quantile(sorted_values, np.arange(1, bins) / bins, method="lower")
    return np.unique(picks[picks > sorted_values[0]])  # no empty first bin


def bin_counts_sorted(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin of sorted values, the way :func:`counts` counts them in SQL."""
    below = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], below, [sorted_values.size]))).astype(np.int64)


def counts(
    log: ModelLog, rows: sa.Subquery, edges: dict[str, np.ndarray]
) -> tuple[int, dict[str, int], dict[str, np.ndarray]]:
    """Row count, non-null count per column and bin counts per numerical column, in one
    aggregate query: ``sum(CASE WHEN x < e THEN 1 END)`` per edge gives cumulative counts."""
    items: list[sa.ColumnElement[Any]] = [sa.func.count()]
    for name, column_edges in edges.items():
        col = rows.c[name]
        items.append(sa.func.count(col))
        items += [sa.func.sum(sa.case((col < float(e), 1), else_=0)) for e in column_edges]
    row = log.one(sa.select(*items))
    total, offset = int(row[0]), 1
    present: dict[str, int] = {}
    binned: dict[str, np.ndarray] = {}
    for name, column_edges in edges.items():
        present[name] = int(row[offset])
        below = [int(v or 0) for v in row[offset + 1 : offset + 1 + column_edges.size]]
        offset += 1 + column_edges.size
        binned[name] = np.diff(np.array([0, *below, present[name]], dtype=np.int64))
    return total, present, binned


def value_counts(
    log: ModelLog, rows: sa.Subquery, column: str, *, limit: int | None = None
) -> tuple[list[Any], list[int], tuple[int, int] | None]:
    """Distinct non-null values of ``column`` and their counts (``GROUP BY``): the ``limit``
    most frequent at most, and then ``(rows not kept, distinct values)``, else None."""
    col = rows.c[column]
    stmt = sa.select(col, sa.func.count()).where(col.is_not(None)).group_by(col)
    if limit is not None:  # one more than kept tells whether there are more
        stmt = stmt.order_by(sa.func.count().desc(), col).limit(limit + 1)
    pairs = log.all(stmt)
    keys, counts = [p[0] for p in pairs], [int(p[1]) for p in pairs]
    if limit is None or len(pairs) <= limit:
        return keys, counts, None
    present, distinct = log.one(sa.select(sa.func.count(col), sa.func.count(sa.distinct(col))))
    return keys[:limit], counts[:limit], (int(present) - sum(counts[:limit]), int(distinct))


def null_count(log: ModelLog, rows: sa.Subquery, column: str) -> int:
    col = rows.c[column]
    return int(log.scalar(sa.select(sa.func.count() - sa.func.count(col))))


def confusion(
    log: ModelLog, rows: sa.Subquery, *, target: str, prediction: str | None, score: str | None
) -> dict[str, int]:
    """tp, fp, fn, tn over labelled rows with a prediction (or a score), counted in SQL."""
    m = log.model
    truth = rows.c[target]
    if prediction is not None:
        predicted, present = rows.c[prediction] == m.positive_label, rows.c[prediction]
    else:
        assert score is not None
        predicted, present = rows.c[score] >= m.decision_threshold, rows.c[score]
    actual = truth == m.positive_label

    def cell(t: sa.ColumnElement[bool], p: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.sum(sa.case((sa.and_(t, p), 1), else_=0))

    stmt = sa.select(
        cell(actual, predicted),
        cell(sa.not_(actual), predicted),
        cell(actual, sa.not_(predicted)),
        cell(sa.not_(actual), sa.not_(predicted)),
    ).where(truth.is_not(None), present.is_not(None))
    row = log.one(stmt)
    return dict(zip(("tp", "fp", "fn", "tn"), (int(v or 0) for v in row), strict=True))


def class_pairs(
    log: ModelLog, rows: sa.Subquery, *, target: str, prediction: str
) -> list[tuple[Any, Any, int]]:
    """``(target, prediction, rows)`` per distinct pair of labelled rows with a prediction
    (``GROUP BY``): a multiclass confusion table, at most classes squared rows."""
    truth, predicted = rows.c[target], rows.c[prediction]
    stmt = (
        sa.select(truth, predicted, sa.func.count())
        .where(truth.is_not(None), predicted.is_not(None))
        .group_by(truth, predicted)
    )
    return [(t, p, int(n)) for t, p, n in log.all(stmt)]


def percentile(
    log: ModelLog, rows: sa.Subquery, column: str, q: float, *, batch: Sequence[float] = ()
) -> float | None:
    """The ``q``-th percentile (0-100) of the non-null values, linear interpolation, in one
    statement (monitor/dialect.py). ``batch``: the other percentiles of the column the
    caller will ask for next; they come in the same statement (one round trip, which costs
    up to a second on Spark) and are kept for those calls, for as long as ``rows`` lives."""
    known = _PERCENTILES.setdefault(rows, {})
    if (column, q) not in known:
        wanted = sorted({float(q), *(float(p) for p in batch)})
        picks = [dialect.percentile(rows.c[column], p / 100) for p in wanted]
        row = log.one(sa.select(*picks))
        for p, value in zip(wanted, row, strict=True):
            known[(column, p)] = None if value is None else float(value)
    return known[(column, q)]


_PERCENTILES: WeakKeyDictionary[sa.Subquery, dict[tuple[str, float], float | None]]
_PERCENTILES = WeakKeyDictionary()


def distinct(log: ModelLog, rows: sa.Subquery, column: str) -> list[Any]:
    col = rows.c[column]
    return [r[0] for r in log.all(sa.select(col).where(col.is_not(None)).distinct())]
