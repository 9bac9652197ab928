"""``monitor config check``: every configured table, column and reference file exists.

Problems are collected, not raised one at a time, so a user fixes a config in one pass. A
scan runs the same existence checks (:func:`require_readable`) before it reads a row, so a
misspelt column is one error naming every problem, and nothing is written for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from monitor.config.schema import FileReference, LabelsJoin, ModelConfig, TableReference
from monitor.sources.engines import SourceEngines
from monitor.sources.errors import SourceError
from monitor.sources.logs import ModelLog
from monitor.sources.reference import ReferenceReader
from monitor.sources.relations import Relation, reflect_table
from monitor.windows import Window


def check_model(
    model: ModelConfig, engines: SourceEngines, *, now: datetime | None = None
) -> list[str]:
    """Human-readable problems of ``model`` against its source; empty when usable.

    Beyond existence and types: a reference without rows, or without a non-null value of a
    feature, leaves drift "insufficient data" in every scan, so it is a problem too (a
    rolling reference is judged before the latest scheduled window at ``now``).
    """
    log = ModelLog(model, engines)
    problems = missing(log)
    try:
        relation = log.relation
    except SourceError:
        return problems  # the table or query itself is the problem, already listed
    problems += _types(model, relation)
    if not problems:
        problems += _reference_rows(log, now or datetime.now(UTC))
    return problems


def require_readable(log: ModelLog) -> None:
    """Raise one :class:`SourceError` naming every table, column and reference file of the
    model that does not exist (as ``config check`` does), before anything is read."""
    problems = missing(log)
    if problems:
        raise SourceError("; ".join(problems))


def missing(log: ModelLog) -> list[str]:
    """The configured tables, columns and reference files that do not exist."""
    model = log.model
    try:
        relation = log.relation
    except SourceError as exc:
        return [str(exc)]
    problems = list(_missing_columns(model, relation))
    problems += _labels(model, log)
    problems += _reference(model, log.engines)
    return problems


def _missing_columns(model: ModelConfig, relation: Relation) -> Iterator[str]:
    available = ", ".join(sorted(relation.selectable.c.keys()))
    for column, role in _roles(model).items():
        if not relation.has(column):
            yield (
                f"model {model.name!r}: {role} column {column!r} not found in "
                f"{relation.label}; available: {available}"
            )


def _types(model: ModelConfig, relation: Relation) -> Iterator[str]:
    for column, role in _roles(model).items():
        if not relation.has(column):
            continue
        problem = _type_problem(relation.selectable.c[column].type, role)
        if problem:
            yield f"model {model.name!r}: {role} column {column!r} {problem}"


def _roles(model: ModelConfig) -> dict[str, str]:
    roles = {model.timestamp: "timestamp"}
    roles |= dict.fromkeys(model.features.numerical, "numerical feature")
    roles |= dict.fromkeys(model.features.categorical, "categorical feature")
    roles |= dict.fromkeys(model.class_scores.values(), "class score")
    for column, role in (
        (model.prediction, "prediction"),
        (model.score, "score"),
        (model.latency, "latency"),
        (model.segment, "segment"),
        (model.model_version, "model version"),
        (model.target if isinstance(model.target, str) else None, "target"),
        (model.target.key if isinstance(model.target, LabelsJoin) else None, "labels key"),
    ):
        if column:
            roles.setdefault(column, role)
    return roles


def _type_problem(kind: sa.types.TypeEngine[Any], role: str) -> str | None:
    python = _python_type(kind)
    if python is None:
        return None  # untyped (SQLite without a declared type, a query): checked on load
    numeric = python in (int, float) or python.__name__ == "Decimal"
    if role in {"numerical feature", "score", "class score", "latency"} and not numeric:
        return f"must be numeric, but is {kind}"
    if role == "timestamp" and not (numeric or python.__name__ in {"datetime", "date", "str"}):
        return f"must hold times, but is {kind}"
    return None


def _python_type(kind: sa.types.TypeEngine[Any]) -> type | None:
    if isinstance(kind, sa.types.NullType):
        return None
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _labels(model: ModelConfig, log: ModelLog) -> list[str]:
    target = model.target
    if not isinstance(target, LabelsJoin):
        return []
    try:
        labels = log.labels
    except SourceError as exc:
        return [str(exc)]
    assert labels is not None
    return [
        f"model {model.name!r}: labels table {target.table!r} has no column {column!r}"
        for column in (target.key, target.column)
        if not labels.has(column)
    ]


def _reference(model: ModelConfig, engines: SourceEngines) -> list[str]:
    ref = model.reference
    wanted = model.features.all
    if isinstance(ref, FileReference):
        return _file_columns(model, ref)
    if not isinstance(ref, TableReference):
        return []
    try:
        table = reflect_table(
            engines.engine(ref.source or model.source), ref.table, model=model.name
        )
    except SourceError as exc:
        return [str(exc)]
    missing = [c for c in wanted if not table.has(c)]
    if missing:
        return [f"model {model.name!r}: reference table {ref.table!r} lacks features {missing}"]
    return []


def _reference_rows(log: ModelLog, now: datetime) -> list[str]:
    """A drift test needs one non-null reference value of its column (there is no
    ``min_rows`` setting): fewer, and every scan judges that column "insufficient data"."""
    model = log.model
    if not model.checks.drift.enabled:
        return []
    reader = ReferenceReader(log)
    live = Window.ending(model.grid.latest(now), model.window)
    try:
        rows, present = reader.counts(live)
    except SourceError as exc:
        return [str(exc)]
    where = f"model {model.name!r}: reference {reader.label(live)}"
    if rows == 0:
        return [
            f"{where} has 0 rows: drift would never be judged; point it at a period or "
            "table that holds rows"
        ]
    return [
        f"{where} has no non-null values of feature {column!r}: its drift would never be judged"
        for column, count in present.items()
        if count == 0
    ]


def _file_columns(model: ModelConfig, ref: FileReference) -> list[str]:
    if not ref.file.is_file():
        return [f"model {model.name!r}: reference file {str(ref.file)!r} not found"]
    if ref.file.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        names = set(pq.read_schema(ref.file).names)
    else:
        import pandas as pd

        names = set(pd.read_csv(ref.file, nrows=0).columns)
    missing = [c for c in model.features.all if c not in names]
    if missing:
        return [f"model {model.name!r}: reference file {str(ref.file)!r} lacks features {missing}"]
    return []
