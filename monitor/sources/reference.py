"""The reference a live window is compared with: a table, a fixed period, a rolling period
before the live window, or a Parquet/CSV file.

A reference gets a fingerprint of what it is (query, columns, bounds) and of its contents
(row count, newest timestamp and labelled rows, or the file's hash), so its summary is
computed once and cached. A fixed one also has an ``identity`` (the fingerprint less the
contents), which its ``refresh`` policy uses; a rolling (``previous``) one has none: its
period's contents are counted on every scan, and its summary is usually the one the
previous scan stored of its live window.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from monitor.config.schema import (
    BetweenReference,
    FileReference,
    ModelConfig,
    PreviousReference,
    TableReference,
)
from monitor.sources.errors import SourceError
from monitor.sources.frames import normalise
from monitor.sources.logs import ModelLog
from monitor.sources.relations import Relation, reflect_table
from monitor.store.profiles import FORMAT_VERSION
from monitor.windows import Window, format_duration, isoformat_z

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ReferenceSpec:
    """What the reference is (stored with each scan) and its cache key, if it is fixed."""

    descriptor: dict[str, Any]
    fingerprint: str | None
    identity: str | None = None
    #: a file's size, modification and change times and inode (read without opening it):
    #: a summary is reused without hashing the file only while its stamp is the same
    stamp: str | None = None


class ReferenceReader:
    def __init__(self, log: ModelLog) -> None:
        self.log = log
        self.model = log.model

    def columns(self) -> list[str]:
        m = self.model
        names = [*m.features.all, m.prediction, m.score, *m.class_scores.values(), m.segment]
        return list(dict.fromkeys(n for n in names if n))

    def window(self, live: Window) -> Window | None:
        ref = self.model.reference
        if isinstance(ref, BetweenReference):
            return Window(ref.between[0], ref.between[1])
        if isinstance(ref, PreviousReference):
            return Window(live.start - ref.previous, live.start)
        return None

    def identify(self, live: Window) -> ReferenceSpec:
        """What the reference is, without reading anything: its descriptor, and as
        ``identity`` a hash of everything its fingerprint holds but its contents (``None``
        for a rolling reference). The fingerprint is left unset."""
        ref = self.model.reference
        stamp = None
        if isinstance(ref, FileReference):
            descriptor = {"kind": "file", "file": str(ref.file)}
            stamp = _file_stamp(ref.file)  # before any hash: a change after it is seen next
        elif isinstance(ref, TableReference):
            descriptor = {"kind": "table", "table": ref.table, "source": self._source()}
        else:
            window = self.window(live)
            assert window is not None
            period = {"start": isoformat_z(window.start), "end": isoformat_z(window.end)}
            if isinstance(ref, PreviousReference):
                rolling = {"kind": "previous", "previous": format_duration(ref.previous)}
                return ReferenceSpec(rolling | period, None)
            descriptor = {"kind": "between"} | period
        return ReferenceSpec(descriptor, None, self._fingerprint(descriptor, None), stamp)

    def describe(self, live: Window) -> ReferenceSpec:
        """:meth:`identify` plus the fingerprint of the reference's current contents
        (a COUNT over a table or period, or a file's hash)."""
        spec = self.identify(live)
        ref = self.model.reference
        if isinstance(ref, PreviousReference):
            window = self.window(live)
            assert window is not None
            return self.period(window)
        if isinstance(ref, FileReference):
            contents: Any = _file_hash(ref.file)
        elif isinstance(ref, TableReference):
            table = self._table()
            count_rows = sa.select(sa.func.count()).select_from(table.selectable)
            contents = self.log.scalar(count_rows, self._source())
        else:
            window = self.window(live)
            assert window is not None
            contents = self._contents(window)
        fingerprint = self._fingerprint(_bare(spec.descriptor), contents)
        return ReferenceSpec(spec.descriptor, fingerprint, spec.identity, spec.stamp)

    def period(self, window: Window) -> ReferenceSpec:
        """A rolling reference's spec for ``window``, with the fingerprint of the period's
        current contents (row count, newest timestamp, labelled rows). The period of the
        next scan's reference is this scan's live window, so the live window's summary is
        stored under this fingerprint (monitor/scans/cache.py) and found by the next scan
        when nothing in the period changed since."""
        ref = self.model.reference
        assert isinstance(ref, PreviousReference)
        period = {"start": isoformat_z(window.start), "end": isoformat_z(window.end)}
        descriptor = {"kind": "previous", "previous": format_duration(ref.previous)} | period
        fingerprint = self._fingerprint({"kind": "previous"} | period, self._contents(window))
        return ReferenceSpec(descriptor, fingerprint)

    def label(self, live: Window) -> str:
        """The reference in words, with its period: ``between 2026-01-01T00:00:00Z and ...``."""
        ref = self.model.reference
        if isinstance(ref, FileReference):
            return f"file {str(ref.file)!r}"
        if isinstance(ref, TableReference):
            return f"table {ref.table!r}"
        window = self.window(live)
        assert window is not None
        period = f"between {isoformat_z(window.start)} and {isoformat_z(window.end)}"
        if isinstance(ref, PreviousReference):
            return f"previous {format_duration(ref.previous)} ({period})"
        return period

    def counts(self, live: Window) -> tuple[int, dict[str, int]]:
        """Rows of the reference and non-null values of each feature: counted by the
        database for a table or a period, from the file's feature columns for a file."""
        ref = self.model.reference
        features = self.model.features.all
        if isinstance(ref, FileReference):
            frame = self._load_file(ref.file)
            return len(frame), {c: int(frame[c].notna().sum()) for c in features}
        name = self.model.name
        if isinstance(ref, TableReference):
            relation, where = self._table(), []
        else:
            window = self.window(live)
            assert window is not None
            relation, where = self.log.relation, list(self.log.within(window))
        columns = [relation.column(c, model=name, role="reference feature") for c in features]
        stmt = sa.select(sa.func.count(), *[sa.func.count(c) for c in columns])
        row = self.log.one(stmt.select_from(relation.selectable).where(*where), self._source())
        return int(row[0]), {c: int(n) for c, n in zip(features, row[1:], strict=True)}

    def load(self, live: Window) -> pd.DataFrame:
        ref = self.model.reference
        if isinstance(ref, FileReference):
            return self._load_file(ref.file)
        if isinstance(ref, TableReference):
            return self._load_table()
        window = self.window(live)
        assert window is not None
        return self.log.rows(window, self.columns(), with_target=self.model.target is not None)

    def _load_table(self) -> pd.DataFrame:
        table = self._table()
        present = [c for c in self.columns() if table.has(c)]
        self._require_features(present, f"reference table {self._ref_table()!r}")
        target = self.model.target_column
        if target and table.has(target) and target not in present:
            present.append(target)
        name = self.model.name
        stmt = sa.select(*[table.column(c, model=name, role="reference") for c in present])
        return self.log.read(stmt, self._source())

    def file_columns(self) -> FileColumns | None:
        """A Parquet reference file, to read a few columns at a time; ``None`` for any
        other reference (a CSV file is read whole: its columns are not stored apart)."""
        ref = self.model.reference
        if not isinstance(ref, FileReference) or ref.file.suffix.lower() != ".parquet":
            return None
        return FileColumns(ref.file, self.model, [*self.columns(), self.model.target_column])

    def _load_file(self, path: Path) -> pd.DataFrame:
        if path.suffix.lower() == ".parquet":
            columns = FileColumns(path, self.model, [*self.columns(), self.model.target_column])
            return columns.read(columns.names)
        import pandas as pd

        wanted = [*self.columns(), self.model.target_column]
        try:
            frame = pd.read_csv(path, usecols=lambda c: c in wanted)
        except FileNotFoundError:
            raise SourceError(f"{_where(self.model, path)} not found") from None
        except (OSError, ValueError) as exc:
            raise SourceError(f"{_where(self.model, path)} cannot be read: {exc}") from None
        self._require_features(list(frame.columns), f"reference file {str(path)!r}")
        return normalise(frame, self.model)

    def _require_features(self, present: list[str], where: str) -> None:
        _require_features(self.model, present, where)

    def _contents(self, window: Window) -> list[Any]:
        log = self.log
        ts = log.timestamp_column()
        counted = [sa.func.count(), sa.func.max(ts)]
        target = self.model.target
        if isinstance(target, str):  # a column of the log: its labels counted in this pass
            column = log.relation.column(target, model=self.model.name, role="target")
            counted.append(sa.func.count(column))
        stmt = sa.select(*counted).select_from(log.relation.selectable)
        row = log.one(stmt.where(*log.within(window)))
        count, newest = row[0], row[1]
        labelled = int(row[2]) if isinstance(target, str) else self._labelled(window)
        return [count, str(newest), labelled]

    def _labelled(self, window: Window) -> int | None:
        # Late labels change the reference's metrics, so they are part of its contents
        # (a target column of the log is counted by _contents itself).
        target = self.model.target_column
        if target is None:
            return None
        rows = self.log.select([self.model.timestamp], with_target=True).subquery()
        stmt = sa.select(sa.func.count()).select_from(rows).where(rows.c[target].is_not(None))
        stmt = stmt.where(*self.log.within(window, rows.c[self.model.timestamp]))
        return int(self.log.scalar(stmt))

    def _table(self) -> Relation:
        engine = self.log.engines.engine(self._source())
        return reflect_table(engine, self._ref_table(), model=self.model.name)

    def _ref_table(self) -> str:
        ref = self.model.reference
        assert isinstance(ref, TableReference)
        return ref.table

    def _source(self) -> str:
        ref = self.model.reference
        if isinstance(ref, TableReference) and ref.source:
            return ref.source
        return self.model.source

    def _fingerprint(self, descriptor: dict[str, Any], contents: Any) -> str:
        m = self.model
        what = {
            "descriptor": descriptor,
            "contents": contents,
            "source": m.source,
            "log": m.table or hashlib.sha256((m.query or "").encode()).hexdigest(),
            "columns": self.columns(),
            "target": m.target if isinstance(m.target, str | None) else m.target.model_dump(),
            "outputs": [m.decision_threshold, str(m.positive_label), m.task],
            # the summary keeps this many categories per column
            "max_categories": m.checks.drift.max_categories,
            # a summary stored in another form is summarised again
            "format": FORMAT_VERSION,
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


class FileColumns:
    """A Parquet reference file read a few columns at a time, each batch as the whole file
    would be read (text categories dictionary-encoded, then :func:`normalise`): the summary
    of a large file is made without its whole table in memory
    (:func:`~monitor.scans.summary.summarise_columns`)."""

    def __init__(self, path: Path, model: ModelConfig, wanted: list[str | None]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = path
        self.model = model
        with _reading(model, path):
            schema, metadata = pq.read_schema(path), pq.read_metadata(path)
        #: the wanted columns the file has, in the order asked for
        self.names = list(dict.fromkeys(c for c in wanted if c and c in schema.names))
        _require_features(model, self.names, f"reference file {str(path)!r}")
        self.rows: int = metadata.num_rows
        # text categories stay dictionary-encoded (codes, not a string per row)
        self._text = {
            c
            for c in model.features.categorical
            if c in self.names and schema.field(c).type in (pa.string(), pa.large_string())
        }

    def read(self, names: list[str]) -> pd.DataFrame:
        """The columns ``names`` (of :attr:`names`) of every row, normalised."""
        import pyarrow.parquet as pq

        text = [c for c in names if c in self._text]
        with _reading(self.model, self.path):
            table = pq.read_table(self.path, columns=names, read_dictionary=text)
            frame = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
        return normalise(frame, self.model)


def _where(model: ModelConfig, path: Path) -> str:
    return f"model {model.name!r}: reference file {str(path)!r}"


@contextmanager
def _reading(model: ModelConfig, path: Path) -> Iterator[None]:
    """A Parquet read of ``path``, its failures as errors naming the model and the file."""
    try:
        yield
    except FileNotFoundError:
        raise SourceError(f"{_where(model, path)} not found") from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"{_where(model, path)} cannot be read: {exc}") from None


def _require_features(model: ModelConfig, present: list[str], where: str) -> None:
    missing = [c for c in model.features.all if c not in present]
    if missing:
        raise SourceError(f"model {model.name!r}: {where} lacks feature columns {missing}")


def _bare(descriptor: dict[str, Any]) -> dict[str, Any]:
    """A period's descriptor as fingerprints have always hashed it (without its kind), so
    the profiles cached before ``identify`` existed keep their keys."""
    if descriptor.get("kind") == "between":
        return {k: v for k, v in descriptor.items() if k != "kind"}
    return descriptor


def _file_stamp(path: Path) -> str:
    """What changes whenever a file is written or replaced: its size, modification and
    status-change times (nanoseconds) and inode; ``ctime`` cannot be set back by a tool
    that restores ``mtime``, and a file replaced by a rename has another inode."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(f"reference file {str(path)!r} not found") from None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise SourceError(f"reference file {str(path)!r} not found") from None
    return digest.hexdigest()
