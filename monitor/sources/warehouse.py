"""Window summaries computed inside the source database (warehouse mode).

Only aggregates travel: row and null counts, value counts of categorical columns, counts of
numerical columns per reference-quantile bin, confusion counts and percentiles. Each
function registers what it needs in a :class:`~monitor.sources.batch.Batch` and returns a
callable that reads the answer once the batch has run: a window summary is one statement
(one round trip, which costs up to a second on Spark). Every aggregate is SQLAlchemy Core
over the same window SELECT the plain path reads (so a query source, a labels join and the
window bounds behave alike), with bound parameters. Percentiles use the dialect's own
aggregate where it has one (PostgreSQL and Spark ``percentile_cont``, DuckDB
``quantile_cont``), elsewhere a scalar subquery picking the two order statistics with
``row_number()`` and interpolating as numpy does (monitor/dialect.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sqlalchemy as sa

from monitor import dialect
from monitor.config.schema import ModelConfig
from monitor.sources.batch import Batch, Pending
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
    batch: Batch, rows: sa.Subquery, edges: dict[str, np.ndarray]
) -> Callable[[], tuple[int, dict[str, int], dict[str, np.ndarray]]]:
    """Row count, non-null count per column and bin counts per numerical column:
    ``sum(CASE WHEN x < e THEN 1 END)`` per edge gives cumulative counts."""
    total = batch.aggregate(rows, sa.func.count())
    asked: dict[str, list[Pending[float | None]]] = {}
    for name, column_edges in edges.items():
        col = rows.c[name]
        asked[name] = [batch.aggregate(rows, sa.func.count(col))]
        asked[name] += [
            batch.aggregate(rows, sa.func.sum(sa.case((col < float(e), 1), else_=0)))
            for e in column_edges
        ]

    def result() -> tuple[int, dict[str, int], dict[str, np.ndarray]]:
        present = {name: _int(pendings[0]) for name, pendings in asked.items()}
        binned = {
            name: np.diff(
                np.array([0, *(_int(p) for p in pendings[1:]), present[name]], dtype=np.int64)
            )
            for name, pendings in asked.items()
        }
        return _int(total), present, binned

    return result


def value_counts(
    batch: Batch, rows: sa.Subquery, column: str, *, limit: int | None = None
) -> Callable[[], tuple[list[Any], list[int], tuple[int, int] | None]]:
    """Distinct non-null values of ``column`` and their counts (``GROUP BY``): the ``limit``
    most frequent at most, and then ``(rows not kept, distinct values)``, else None."""
    group = batch.groups(rows, [column], limit=limit)
    present = batch.aggregate(rows, sa.func.count(rows.c[column])) if limit is not None else None

    def result() -> tuple[list[Any], list[int], tuple[int, int] | None]:
        keys, counts, distinct = group.found.get()
        values = [k[0] for k in keys]
        if limit is None or len(keys) <= limit:
            return values, counts, None
        assert present is not None
        kept = counts[:limit]
        return values[:limit], kept, (_int(present) - sum(kept), distinct)

    return result


def null_count(batch: Batch, rows: sa.Subquery, column: str) -> Callable[[], int]:
    pending = batch.aggregate(rows, sa.func.count() - sa.func.count(rows.c[column]))
    return lambda: _int(pending)


def confusion(
    batch: Batch,
    rows: sa.Subquery,
    model: ModelConfig,
    *,
    target: str,
    prediction: str | None,
    score: str | None,
) -> Callable[[], dict[str, int]]:
    """tp, fp, fn, tn over labelled rows with a prediction (or a score), counted in SQL."""
    truth = rows.c[target]
    if prediction is not None:
        predicted, present = rows.c[prediction] == model.positive_label, rows.c[prediction]
    else:
        assert score is not None
        predicted, present = rows.c[score] >= model.decision_threshold, rows.c[score]
    actual = truth == model.positive_label
    counted = sa.and_(truth.is_not(None), present.is_not(None))

    def cell(t: sa.ColumnElement[bool], p: sa.ColumnElement[bool]) -> Pending[float | None]:
        return batch.aggregate(rows, sa.func.sum(sa.case((sa.and_(counted, t, p), 1), else_=0)))

    cells = {
        "tp": cell(actual, predicted),
        "fp": cell(sa.not_(actual), predicted),
        "fn": cell(actual, sa.not_(predicted)),
        "tn": cell(sa.not_(actual), sa.not_(predicted)),
    }
    return lambda: {name: _int(pending) for name, pending in cells.items()}


def class_pairs(
    batch: Batch, rows: sa.Subquery, *, target: str, prediction: str
) -> Callable[[], list[tuple[Any, Any, int]]]:
    """``(target, prediction, rows)`` per distinct pair of labelled rows with a prediction
    (``GROUP BY``): a multiclass confusion table, at most classes squared rows."""
    group = batch.groups(rows, [target, prediction], limit=None)

    def result() -> list[tuple[Any, Any, int]]:
        keys, counts, _ = group.found.get()
        return [(t, p, n) for (t, p), n in zip(keys, counts, strict=True)]

    return result


def percentile(
    batch: Batch, rows: sa.Subquery, column: str, q: float
) -> Callable[[], float | None]:
    """The ``q``-th percentile (0-100) of the non-null values, linear interpolation, by the
    dialect's own function where it has one (monitor/dialect.py)."""
    return batch.aggregate(rows, dialect.percentile(rows.c[column], q / 100)).get


def distinct(batch: Batch, rows: sa.Subquery, column: str) -> Callable[[], list[Any]]:
    group = batch.groups(rows, [column], limit=None)
    return lambda: [k[0] for k in group.found.get()[0]]


def _int(pending: Pending[float | None]) -> int:
    value = pending.get()
    return 0 if value is None else int(value)
