"""`monitor drift REFERENCE CURRENT`: compare two files as Evidently's DataDriftPreset does.

Column selection follows Evidently 0.7's ``DataDefinition``: a list given with
``--numerical`` / ``--categorical`` is taken as is, and the type that is not given is inferred
from the remaining columns the two files share. ``--threshold`` applies to every column.
Exit code 0: no dataset drift; 1: dataset drift; 2: error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from checks.drift import ColumnType

_EXIT_DRIFT = 1


def register(app: typer.Typer) -> None:
    app.command("drift")(drift)


def drift(
    reference: Path = typer.Argument(..., help="Reference file (.csv or .parquet)."),
    current: Path = typer.Argument(..., help="Current file (.csv or .parquet)."),
    numerical: str | None = typer.Option(None, help="Numerical columns, comma-separated."),
    categorical: str | None = typer.Option(None, help="Categorical columns, comma-separated."),
    method: str = typer.Option("auto", help="Drift method for every column (default: auto)."),
    threshold: str | None = typer.Option(None, help="Threshold for every column."),
    share: str = typer.Option("0.5", help="Share of drifted columns that is dataset drift."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    mode: str = typer.Option(
        "evidently",
        help="evidently: Evidently's tests and thresholds (default); calibrated: thresholds "
        "learnt on the reference at the current file's size (docs/drift.md).",
    ),
) -> None:
    """Compare two CSV or Parquet files column by column and report dataset drift."""
    num, cat = _column_list(numerical, "--numerical"), _column_list(categorical, "--categorical")
    limit = None if threshold is None else _positive(threshold, "--threshold")
    drift_share = _share(share)
    _check_method(method, limit)
    columns = _columns_to_read(reference, current, num, cat)
    ref_data, cur_data, num, cat = _load(reference, current, columns, num, cat)
    if mode not in ("evidently", "calibrated"):
        raise MonitorError(f"--mode: {mode!r} is not 'evidently' or 'calibrated'")
    if mode == "calibrated":
        result = _calibrated(ref_data, cur_data, num, cat)
    else:
        result = _compare(ref_data, cur_data, num, cat, method, limit, drift_share)
    typer.echo(_to_json(result) if as_json else render_table(result))
    if result["dataset_drift"]:
        raise typer.Exit(code=_EXIT_DRIFT)


def _load(
    reference: Path,
    current: Path,
    columns: list[str],
    num: list[str] | None,
    cat: list[str] | None,
) -> tuple[Any, Any, list[str], list[str]]:
    """The two sides for the drift engine, and every compared column's type.

    Two Parquet files become lazy profiles read one column at a time, so memory holds the
    columns being compared, not the files; anything else is read into DataFrames.
    """
    from monitor import datafiles

    if datafiles.is_parquet(reference) and datafiles.is_parquet(current):
        num, cat = _resolve_types(
            num,
            cat,
            columns,
            lambda names: datafiles.infer_parquet_types(current, "current", names),
        )
        types: dict[str, ColumnType] = {
            **dict.fromkeys(num, "numerical"),
            **dict.fromkeys(cat, "categorical"),
        }
        return (
            datafiles.ParquetProfiles(reference, "reference", types),
            datafiles.ParquetProfiles(current, "current", types),
            num,
            cat,
        )
    from checks.drift import infer_column_types

    ref_df = datafiles.read_columns(reference, "reference", columns)
    cur_df = datafiles.read_columns(current, "current", columns)
    num, cat = _resolve_types(num, cat, columns, lambda names: infer_column_types(cur_df, names))
    return ref_df, cur_df, num, cat


def _to_json(result: dict[str, Any]) -> str:
    try:
        return json.dumps(result, allow_nan=False)
    except ValueError as exc:  # NaN/inf would make invalid JSON; the engine promises neither
        raise MonitorError(f"the drift result holds a non-finite number: {exc}") from exc


def _column_list(raw: str | None, option: str) -> list[str] | None:
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        raise MonitorError(f"{option}: no column names in {raw!r}")
    return names


def _number(raw: str, option: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise MonitorError(f"{option}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise MonitorError(f"{option}: {raw!r} is not a finite number")
    return value


def _positive(raw: str, option: str) -> float:
    value = _number(raw, option)
    if value <= 0:
        raise MonitorError(f"{option}: must be above 0; got {raw}")
    return value


def _share(raw: str) -> float:
    value = _number(raw, "--share")
    if not 0 < value <= 1:
        raise MonitorError(f"--share: must be in (0, 1]; got {raw}")
    return value


def _check_method(method: str, threshold: float | None) -> None:
    """Fail on an unknown method, or a p-value threshold above 1, before reading any data."""
    if method == "auto":
        return
    from checks.drift import get_method
    from checks.errors import UnknownNameError

    try:
        impl = get_method(method)
    except UnknownNameError as exc:
        raise MonitorError(str(exc)) from exc
    if impl.kind == "p_value" and threshold is not None and threshold > 1:
        raise MonitorError(
            f"--threshold: {method!r} scores a p-value, so the threshold must be at most 1; "
            f"got {threshold:g}"
        )


def _columns_to_read(
    reference: Path, current: Path, num: list[str] | None, cat: list[str] | None
) -> list[str]:
    """Given columns are checked in both files; an omitted type needs every shared column."""
    from monitor import datafiles

    ref_names = datafiles.read_column_names(reference, "reference")
    cur_names = datafiles.read_column_names(current, "current")
    given = [*(num or []), *(cat or [])]
    both = set(num or []) & set(cat or [])
    if both:
        raise MonitorError(f"column {sorted(both)[0]!r} is both --numerical and --categorical")
    datafiles.check_columns(reference, "reference", ref_names, given)
    datafiles.check_columns(current, "current", cur_names, given)
    if num is not None and cat is not None:
        return given
    shared = [name for name in ref_names if name in set(cur_names)]
    if not shared:
        raise MonitorError(f"files {str(reference)!r} and {str(current)!r} share no column")
    return shared


def _resolve_types(
    num: list[str] | None,
    cat: list[str] | None,
    columns: list[str],
    infer: Callable[[list[str]], Mapping[str, str]],
) -> tuple[list[str], list[str]]:
    """Evidently 0.7's ``DataDefinition`` rule: a given list is taken as is; a type not given
    is inferred (on the current file) from the other columns, and a column inferred as a type
    that was given is not compared."""
    if num is not None and cat is not None:
        return num, cat
    given = {*(num or []), *(cat or [])}
    inferred = infer([c for c in columns if c not in given])
    if num is None:
        num = [c for c, kind in inferred.items() if kind == "numerical"]
    if cat is None:
        cat = [c for c, kind in inferred.items() if kind == "categorical"]
    if not num and not cat:
        raise MonitorError("no column to compare: none is numerical or categorical")
    return num, cat


def _compare(
    ref_data: Any,
    cur_data: Any,
    num: list[str],
    cat: list[str],
    method: str,
    threshold: float | None,
    share: float,
) -> dict[str, Any]:
    from checks.drift import compare_dataset
    from checks.errors import ChecksError

    try:
        outcome = compare_dataset(
            ref_data,
            cur_data,
            numerical=num,
            categorical=cat,
            method=method,
            threshold=threshold,
            share=share,
        )
    except ChecksError as exc:
        raise MonitorError(str(exc)) from exc
    result: dict[str, Any] = outcome.to_json_dict()
    return result


def _calibrated(ref_data: Any, cur_data: Any, num: list[str], cat: list[str]) -> dict[str, Any]:
    """Calibrated mode: each column's threshold learnt on the reference (1% false alarms)."""
    from checks.drift.calibrate import DEFAULT_MIN_ROWS
    from checks.drift.calibrated import calibrate_column, judge_column, judge_dataset
    from checks.drift.compare import as_profile
    from checks.errors import ChecksError

    types: dict[str, ColumnType] = {
        **dict.fromkeys(num, "numerical"),
        **dict.fromkeys(cat, "categorical"),
    }
    outcomes = []
    try:
        for column, kind in types.items():
            ref = as_profile(ref_data[column], kind, column, "reference")
            cur = as_profile(cur_data[column], kind, column, "current")
            cal = None
            if cur.count >= DEFAULT_MIN_ROWS and ref.count > 0:
                cal = calibrate_column(
                    ref, column=column, column_type=kind, live_rows=cur.count, columns=len(types)
                )
            outcomes.append(
                judge_column(ref, cur, column=column, column_type=kind, calibration=cal)
            )
    except ChecksError as exc:
        raise MonitorError(str(exc)) from exc
    result: dict[str, Any] = judge_dataset(outcomes).to_json_dict()
    for col, outcome in zip(result["columns"], outcomes, strict=True):
        col["effect"] = outcome.details.get("effect")
        cal = outcome.details.get("calibration")
        col["how"] = cal["how"] if cal else None
    return result


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _verdict(drifted: bool | None) -> str:
    return {True: "DRIFT", False: "ok", None: "n/a"}[drifted]


def render_table(result: dict[str, Any]) -> str:
    """A plain-text table, one row per column, then the dataset verdict."""
    header = ["column", "type", "method", "kind", "score", "threshold", "drift", "missing ref/cur"]
    rows = [header]
    for col in result["columns"]:
        missing = col["missing_share"]
        rows.append(
            [
                col["column"],
                col["type"],
                col["method"],
                col["kind"].replace("_", "-"),
                _fmt(col["score"]),
                _fmt(col["threshold"]),
                _verdict(col["drifted"]),
                f"{missing['reference']:.1%} / {missing['current']:.1%}",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += _notes(result)
    return "\n".join(lines)


def _notes(result: dict[str, Any]) -> list[str]:
    notes = [f"{c['column']}: {c['reason']}" for c in result["columns"] if c.get("reason")]
    notes += [
        f"{c['effect']['phrase']} ({c['how']})"
        for c in result["columns"]
        if c.get("drifted") and c.get("effect") and c.get("how")
    ]
    drifted = sum(1 for c in result["columns"] if c["drifted"])
    total = len(result["columns"])
    verdict = "DATASET DRIFT" if result["dataset_drift"] else "no dataset drift"
    summary = (
        f"{verdict}: {drifted} of {total} columns drifted (share {result['share_drifted']:.2f})"
    )
    return ["", *notes, summary] if notes else ["", summary]
