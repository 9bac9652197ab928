"""Many aggregates over window subqueries, gathered and run as one statement.

Each round trip costs up to a second on Spark, so warehouse mode asks for a whole window
summary at once: callers register what they need (an aggregate over some rows, or counts
per distinct value of some columns) and get a :class:`Pending` each; :meth:`Batch.run`
sends one ``UNION ALL`` of typed rows and fills them in. Every branch has the same columns:

* ``b``: which branch the row answers;
* ``a0 .. aN``: the aggregates of one set of rows (a branch per rows subquery, one row),
  cast to DOUBLE so that counts, sums and percentiles share the slots (counts stay exact
  below 2**53);
* one key column per grouped column name (its own type; NULL in other branches), then
  ``n`` (rows with those keys), ``d`` (distinct keys) and ``r`` (the key's rank by count)
  for the branches counting distinct values, at most ``limit + 1`` of them.

Standard SQL: runs on SQLite, PostgreSQL, DuckDB and Spark SQL alike (tests/monitor/perf
and tests/monitor/engines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from monitor.sources.logs import ModelLog

T = TypeVar("T")


class Pending(Generic[T]):
    """A value the batch's statement will bring."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._done = False

    def set(self, value: T) -> None:
        self._value, self._done = value, True

    def get(self) -> T:
        if not self._done:
            raise RuntimeError("the batch holding this value has not run yet")
        return self._value  # type: ignore[return-value]


@dataclass
class Groups:
    """Counts per distinct non-null ``columns`` tuple of ``rows``: the ``limit`` + 1 most
    frequent at most, and how many distinct tuples there are."""

    rows: sa.Subquery
    columns: tuple[str, ...]
    limit: int | None
    found: Pending[tuple[list[tuple[Any, ...]], list[int], int]] = field(default_factory=Pending)


@dataclass
class _Aggregates:
    rows: sa.Subquery
    items: list[tuple[sa.ColumnElement[Any], Pending[float | None]]] = field(default_factory=list)


class Batch:
    """Aggregates to fetch in one statement from one model's source."""

    def __init__(self, log: ModelLog) -> None:
        self.log = log
        self._aggregates: dict[sa.Subquery, _Aggregates] = {}
        self._groups: list[Groups] = []

    def aggregate(self, rows: sa.Subquery, expr: sa.ColumnElement[Any]) -> Pending[float | None]:
        """``expr``, an aggregate over ``rows`` (NULL when it is NULL, e.g. a sum of none)."""
        pending: Pending[float | None] = Pending()
        self._aggregates.setdefault(rows, _Aggregates(rows)).items.append((expr, pending))
        return pending

    def groups(self, rows: sa.Subquery, columns: Sequence[str], *, limit: int | None) -> Groups:
        group = Groups(rows, tuple(columns), limit)
        self._groups.append(group)
        return group

    def run(self) -> None:
        """Send the one statement (nothing when nothing was asked) and fill every value."""
        if not self._aggregates and not self._groups:
            return
        layout = _Layout(self)
        branches = layout.branches()
        stmt = branches[0] if len(branches) == 1 else sa.union_all(*branches)
        aggregates = list(self._aggregates.values())
        found: list[list[tuple[Any, ...]]] = [[] for _ in self._groups]
        for row in self.log.all(stmt):  # type: ignore[arg-type]
            b = int(row[0])
            if b < len(aggregates):
                for k, (_, pending) in enumerate(aggregates[b].items):
                    value = row[1 + k]
                    pending.set(None if value is None else float(value))
            else:
                found[b - len(aggregates)].append(tuple(row))
        for group, rows in zip(self._groups, found, strict=True):
            group.found.set(layout.read_groups(group, rows))
        self._aggregates, self._groups = {}, []


class _Layout:
    """The column slots of the union and each branch's SELECT."""

    def __init__(self, batch: Batch) -> None:
        self.aggregates = list(batch._aggregates.values())
        self.groups = batch._groups
        # one more: each aggregate row also counts its rows, so that it is one row even
        # when all it asks for is a scalar subquery (the standard-SQL percentile)
        self.width = 1 + max((len(a.items) for a in self.aggregates), default=0)
        self.keys: dict[str, sa.ColumnElement[Any]] = {}  # a NULL of each key's type
        for group in self.groups:
            for name in group.columns:
                self.keys.setdefault(name, _null_like(group.rows.c[name]))
        self.key_slot = {name: 1 + self.width + k for k, name in enumerate(self.keys)}
        self.count_slot = 1 + self.width + len(self.keys)

    def branches(self) -> list[sa.Select[Any]]:
        out = [self._aggregate_branch(b, a) for b, a in enumerate(self.aggregates)]
        first = len(self.aggregates)
        out += [self._group_branch(first + k, g) for k, g in enumerate(self.groups)]
        return out

    def _aggregate_branch(self, b: int, agg: _Aggregates) -> sa.Select[Any]:
        values: list[sa.ColumnElement[Any]] = [sa.cast(e, sa.Double) for e, _ in agg.items]
        values += [_null(sa.Double()) for _ in range(self.width - 1 - len(values))]
        values.append(sa.cast(sa.func.count(), sa.Double))
        keys = list(self.keys.values())
        counts = [_null(sa.BigInteger()) for _ in range(3)]
        return sa.select(_branch(b), *values, *keys, *counts).select_from(agg.rows)

    def _group_branch(self, b: int, group: Groups) -> sa.Select[Any]:
        cols = [group.rows.c[name] for name in group.columns]
        n = sa.func.count()
        inner = (
            sa.select(
                *(c.label(f"k{j}") for j, c in enumerate(cols)),
                n.label("n"),
                sa.func.count().over().label("d"),
                sa.func.row_number().over(order_by=(n.desc(), *cols)).label("r"),
            )
            .where(*(c.is_not(None) for c in cols))
            .group_by(*cols)
        )
        sub = inner.subquery(f"g{b}")
        own = {name: sub.c[f"k{j}"] for j, name in enumerate(group.columns)}
        values = [_null(sa.Double()) for _ in range(self.width)]
        keys = [own.get(name, null) for name, null in self.keys.items()]
        stmt = sa.select(_branch(b), *values, *keys, sub.c.n, sub.c.d, sub.c.r)
        if group.limit is not None:  # one more than kept tells whether there are more
            # by rank, not ORDER BY ... LIMIT: Spark cannot sort on count(*) beside windows
            stmt = stmt.where(sub.c.r <= group.limit + 1)
        return stmt

    def read_groups(
        self, group: Groups, rows: list[tuple[Any, ...]]
    ) -> tuple[list[tuple[Any, ...]], list[int], int]:
        rows = sorted(rows, key=lambda row: int(row[self.count_slot + 2]))
        keys = [tuple(row[self.key_slot[name]] for name in group.columns) for row in rows]
        counts = [int(row[self.count_slot]) for row in rows]
        distinct = int(rows[0][self.count_slot + 1]) if rows else 0
        return keys, counts, distinct


def _branch(b: int) -> sa.ColumnElement[int]:
    return sa.literal_column(str(int(b)), sa.Integer).label("b")


def _null(type_: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
    """A NULL of ``type_`` (typed, so that every engine unions it with the real column)."""
    return sa.cast(sa.null(), type_)


def _null_like(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A NULL of ``column``'s type. A ``query:`` source's columns have no type here: then
    ``(SELECT column FROM rows WHERE false)``, typed by the database (PostgreSQL resolves
    two untyped NULLs in a UNION as text, which then fails against an integer column)."""
    if not isinstance(column.type, sa.types.NullType):
        return _null(column.type)
    return sa.select(column).where(sa.false()).correlate(None).scalar_subquery()
