"""Drift of a whole dataset: every column in a thread pool, then Evidently's share rule."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeAlias, TypeVar

import pandas as pd

from checks.drift.compare import as_profile, compare_column, missing_share_check
from checks.drift.correction import CORRECTIONS, adjust_p_values
from checks.drift.methods import get_method
from checks.drift.outcome import ColumnSpec, DatasetDriftOutcome, DriftOutcome
from checks.drift.profile import ColumnProfile, ColumnType
from checks.drift.select import infer_column_types
from checks.errors import ColumnError, UnknownNameError
from checks.outcome import Outcome

Frame: TypeAlias = pd.DataFrame | Mapping[str, ColumnProfile]
T = TypeVar("T")


def compare_dataset(
    reference: Frame,
    current: Frame,
    *,
    numerical: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    method: str = "auto",
    threshold: float | None = None,
    per_column: Mapping[str, ColumnSpec] | None = None,
    share: float = 0.5,
    correction: str | None = None,
    missing_tolerance: float = 0.05,
    seed: int = 0,
    max_categories: int | None = None,
) -> DatasetDriftOutcome:
    """Test every column and decide dataset drift as Evidently's ``DataDriftPreset`` does.

    Columns not listed in ``numerical`` or ``categorical`` are typed like Evidently's
    ``infer_column_type`` (on ``current``) when either list is ``None``. ``method`` and
    ``threshold`` apply to every column; ``per_column`` overrides either for a column.
    ``correction`` (``"bonferroni"`` or ``"bh"``) adjusts the verdicts of the p-value columns.
    ``max_categories`` caps the distinct values a categorical column keeps (see
    :func:`checks.drift.compare_column`).
    """
    if correction is not None and correction not in CORRECTIONS:
        raise UnknownNameError("correction", correction, CORRECTIONS)
    if method != "auto":
        get_method(method)
    types = _column_types(reference, current, numerical, categorical)
    specs = per_column or {}
    for name in specs:
        if name not in types:
            raise ColumnError(name, "has a per_column setting but is not a compared column")

    def one(column: str) -> tuple[DriftOutcome, Outcome]:
        spec = specs.get(column, ColumnSpec())
        kind, cap = types[column], max_categories
        ref = as_profile(_column(reference, column, "reference"), kind, column, "reference", cap)
        cur = as_profile(_column(current, column, "current"), kind, column, "current", cap)
        drift = compare_column(
            ref,
            cur,
            column=column,
            column_type=types[column],
            method=spec.method or method,
            threshold=_spec_threshold(spec, threshold),
            seed=seed,
            max_categories=max_categories,
        )
        return drift, missing_share_check(ref, cur, column=column, tolerance=missing_tolerance)

    results = _parallel_map(one, list(types))
    columns = tuple(drift for drift, _ in results)
    if correction is not None:
        columns = _corrected(columns, correction)
    drifted = sum(1 for c in columns if c.drifted is True)
    share_drifted = drifted / len(columns) if columns else 0.0
    return DatasetDriftOutcome(
        columns=columns,
        missing=tuple(missing for _, missing in results),
        share=share,
        number_drifted=drifted,
        share_drifted=share_drifted,
        dataset_drift=bool(columns) and share_drifted >= share,
    )


def profile_dataset(
    frame: Frame,
    types: Mapping[str, ColumnType],
    *,
    max_categories: int | None = None,
    side: str = "current",
) -> dict[str, ColumnProfile]:
    """Each column's profile as :func:`compare_dataset` makes it from ``frame``, in parallel.

    A caller that also reads the profiles (effect sizes) passes these to
    :func:`compare_dataset` instead of the frame, so a numerical column is sorted once.
    ``side`` names ``frame`` in errors.
    """

    def one(column: str) -> ColumnProfile:
        data = _column(frame, column, side)
        return as_profile(data, types[column], column, side, max_categories)

    return dict(zip(types, _parallel_map(one, list(types)), strict=True))


def _spec_threshold(spec: ColumnSpec, threshold: float | None) -> float | None:
    if spec.threshold is not None:
        return spec.threshold
    return threshold if spec.method is None else None


def _column_types(
    reference: Frame,
    current: Frame,
    numerical: Sequence[str] | None,
    categorical: Sequence[str] | None,
) -> dict[str, ColumnType]:
    types: dict[str, ColumnType] = {}
    for names, kind in ((numerical or (), "numerical"), (categorical or (), "categorical")):
        for name in names:
            if name in types:
                raise ColumnError(name, "listed as both numerical and categorical")
            types[name] = kind  # type: ignore[assignment]
    if numerical is not None and categorical is not None:
        return types
    for name, kind in _inferred(reference, current).items():
        types.setdefault(name, kind)
    return types


def _inferred(reference: Frame, current: Frame) -> dict[str, ColumnType]:
    if isinstance(current, pd.DataFrame):
        shared = [c for c in current.columns if c in _names(reference)]
        return infer_column_types(current, shared)
    return {name: p.column_type for name, p in current.items() if name in _names(reference)}


def _names(frame: Frame) -> set[str]:
    return set(frame.columns) if isinstance(frame, pd.DataFrame) else set(frame)


def _column(frame: Frame, column: str, side: str) -> pd.Series | ColumnProfile:
    if column not in _names(frame):
        raise ColumnError(column, f"not in the {side} data")
    return frame[column]


def _corrected(columns: tuple[DriftOutcome, ...], correction: str) -> tuple[DriftOutcome, ...]:
    tested = [i for i, c in enumerate(columns) if c.kind == "p_value" and c.value is not None]
    if not tested:
        return columns
    adjusted = adjust_p_values([float(columns[i].value or 0.0) for i in tested], correction)
    out = list(columns)
    for i, p in zip(tested, adjusted, strict=True):
        c = columns[i]
        drifted = get_method(c.method).is_drift(float(p), c.threshold)
        details = {**c.details, "correction": correction, "adjusted_p_value": float(p)}
        out[i] = dataclasses.replace(c, passed=not drifted, details=details)
    return tuple(out)


def _parallel_map(fn: Callable[[str], T], items: list[str]) -> list[T]:
    # numpy sorts, searchsorted and reductions release the GIL, so columns run in parallel
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))
