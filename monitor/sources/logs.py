"""A model's prediction log: rows of a window, with labels joined where configured."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

import monitor.sources.fastread as fastread
import monitor.sources.spellings as spellings
from monitor import dialect
from monitor.config.schema import LabelsJoin, ModelConfig
from monitor.sources.bounds import bound, sample_statement
from monitor.sources.engines import SourceEngines
from monitor.sources.errors import SourceError
from monitor.sources.frames import normalise
from monitor.sources.relations import Relation, query_relation, reflect_table
from monitor.windows import Window, format_duration

if TYPE_CHECKING:
    import pandas as pd


class ModelLog:
    """Reads one model's log. Tables are reflected once per instance (one scan run)."""

    def __init__(self, model: ModelConfig, engines: SourceEngines) -> None:
        self.model = model
        self.engines = engines
        self._sample: Any = None
        self._spelled: dict[Window, list[str]] = {}
        # Problems in the data noticed while reading, shown with the scan (never silent).
        self.warnings: list[str] = []

    @cached_property
    def relation(self) -> Relation:
        engine = self.engines.engine(self.model.source)
        if self.model.query is not None:
            return query_relation(engine, self.model.query, model=self.model.name)
        assert self.model.table is not None
        return reflect_table(engine, self.model.table, model=self.model.name)

    @cached_property
    def labels(self) -> Relation | None:
        target = self.model.target
        if not isinstance(target, LabelsJoin):
            return None
        engine = self.engines.engine(self.model.source)
        return reflect_table(engine, target.table, model=self.model.name)

    def prepare(self) -> None:
        """Reflect the log (and labels) and sample its timestamps now, so that threads
        reading windows afterwards share them instead of racing to make them."""
        self.engines.engine(self.model.source)
        _ = self.relation, self.labels
        self.timestamp_sample()

    def live_columns(self) -> list[str]:
        """Every column a check reads (drift, operational, label coverage). Not the
        timestamp: the window is the WHERE clause, and no check reads the times."""
        m = self.model
        names = [*m.features.all, m.prediction, m.score, *m.class_scores.values()]
        names += [m.latency, m.segment]
        names.append(m.model_version)
        return _unique(names)

    def performance_columns(self) -> list[str]:
        m = self.model
        return _unique([m.prediction, m.score, *m.class_scores.values(), m.segment])

    def rows(self, window: Window, columns: list[str], *, with_target: bool) -> pd.DataFrame:
        """Rows with ``window.start <= timestamp < window.end``, only ``columns`` (+ target)."""
        stmt = self.select(columns, with_target=with_target)
        whole = stmt.where(*self.within(window))  # first: its parts reuse what it learnt
        slices = window.split(self.engines.parallel_reads(self.model.source))
        parts = [stmt.where(*self.within(part)) for part in slices] if len(slices) > 1 else None
        return self.read(whole, parts=parts)

    def within(
        self, window: Window, column: sa.ColumnElement[Any] | None = None
    ) -> tuple[sa.ColumnElement[bool], ...]:
        """``start <= ts < end`` on the log's timestamp (or ``column``), bounds bound; times
        stored as text are matched in each spelling the window holds (sources/spellings.py)."""
        ts = column if column is not None else self.timestamp_column()
        zone = self.engines.timezone(self.model.source)
        sample = self.timestamp_sample()
        if not spellings.applies(sample):
            return ts >= bound(window.start, sample, zone), ts < bound(window.end, sample, zone)
        return spellings.within(ts, window, sample, zone, self._spellings(window))

    def _spellings(self, window: Window) -> list[str]:
        """The separators of the text times in ``window`` (counted once per window; a part
        of a window already counted has the same ones), with a warning when there are two."""
        for known, found in list(self._spelled.items()):
            if known.start <= window.start and window.end <= known.end:
                return found
        sample, zone = self.timestamp_sample(), self.engines.timezone(self.model.source)
        census = spellings.census(
            self.timestamp_column(), self.relation.selectable, window, sample, zone
        )
        rows = sorted((row for row in self.all(census) if row[1]), key=lambda row: row[0])
        if len(rows) > 1:
            column = self.model.timestamp
            self.warnings.append(spellings.mixed_warning(self.model.name, column, window, rows))
        found = [row[0] for row in rows] or [sample[10]]
        self._spelled[window] = found
        return found

    def timestamp_column(self) -> sa.ColumnElement[Any]:
        return self.relation.column(self.model.timestamp, model=self.model.name, role="timestamp")

    def select(self, columns: list[str], *, with_target: bool) -> sa.Select[*tuple[Any, ...]]:
        name = self.model.name
        chosen = [self.relation.column(c, model=name, role=self._role(c)) for c in columns]
        source: sa.FromClause = self.relation.selectable
        target = self.model.target
        if with_target and isinstance(target, LabelsJoin) and self.labels is not None:
            key = self.relation.column(target.key, model=name, role="labels key")
            label_key = self.labels.column(target.key, model=name, role="labels key")
            label = self.labels.column(target.column, model=name, role="target")
            source = source.outerjoin(self.labels.selectable, key == label_key)
            chosen.append(label.label(target.column))
        elif with_target and isinstance(target, str):
            chosen.append(self.relation.column(target, model=name, role="target"))
        return sa.select(*chosen).select_from(source)

    def timestamp_sample(self) -> Any:
        if self._sample is None:
            self._sample = self.scalar(sample_statement(self.timestamp_column()))
        return self._sample

    def read(
        self,
        stmt: sa.Select[*tuple[Any, ...]],
        source: str | None = None,
        *,
        parts: list[sa.Select[*tuple[Any, ...]]] | None = None,
    ) -> pd.DataFrame:
        """Run ``stmt`` on the model's source (or ``source``); a frame with normalised types.

        ``parts``: statements whose rows together are exactly ``stmt``'s (slices of its
        window), which a fast path may run at once on several connections.
        """
        source = source or self.model.source
        with self._connect(source) as conn:
            if fastread.supports(conn):
                categorical = self.model.features.categorical
                frame = fastread.fast_frame(conn, stmt, parts=parts, categorical=categorical)
            else:
                import pandas as pd

                result = conn.execute(stmt)
                frame = pd.DataFrame.from_records(list(result), columns=list(result.keys()))
        return normalise(frame, self.model, zone=self.engines.timezone(source))

    def scalar(self, stmt: sa.Select[*tuple[Any, ...]], source: str | None = None) -> Any:
        with self._connect(source or self.model.source) as conn:
            return conn.execute(stmt).scalar()

    def all(self, stmt: sa.Select[*tuple[Any, ...]]) -> list[Any]:
        with self._connect(self.model.source) as conn:
            return list(conn.execute(stmt).all())

    def one(
        self, stmt: sa.Select[*tuple[Any, ...]], source: str | None = None
    ) -> sa.Row[*tuple[Any, ...]]:
        with self._connect(source or self.model.source) as conn:
            return conn.execute(stmt).one()

    @contextmanager
    def _connect(self, source: str) -> Iterator[sa.Connection]:
        """A read-only connection; a database error becomes a SourceError naming the model."""
        try:
            with self.engines.engine(source).connect() as conn:
                dialect.read_only(conn)
                yield conn
        except SQLAlchemyError as exc:
            raise self._failure(source, exc) from None

    def _failure(self, source: str, exc: SQLAlchemyError) -> SourceError:
        name, reason = self.model.name, _first(exc)
        if not _timed_out(exc):
            return SourceError(f"model {name!r}: reading source {source!r} failed: {reason}")
        limit = self.engines.statement_timeout(source)
        shown = format_duration(limit) if limit is not None else "(none set)"
        return SourceError(
            f"model {name!r}: a query on source {source!r} ran longer than its "
            f"statement_timeout {shown} and was cancelled ({reason}); make it cheaper (an "
            f"index on the timestamp column, a shorter window) or raise "
            f"sources.{source}.statement_timeout"
        )

    def _role(self, column: str) -> str:
        m = self.model
        roles = {m.timestamp: "timestamp", m.prediction: "prediction", m.score: "score"}
        roles |= {m.latency: "latency", m.segment: "segment", m.model_version: "model version"}
        return roles.get(column) or "feature"


def _unique(names: list[str | None]) -> list[str]:
    return list(dict.fromkeys(n for n in names if n))


def _timed_out(exc: SQLAlchemyError) -> bool:
    """PostgreSQL's query_canceled (57014), as psycopg, psycopg2 and ADBC report it."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code == "57014" or "statement timeout" in str(orig)


def _first(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0]
