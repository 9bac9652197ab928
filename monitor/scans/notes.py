"""What a scan noticed about its data without failing on it, in words for the scan's warnings.

Warnings are stored with the scan, printed by ``monitor scan`` and shown by ``monitor status``:
an empty reference (drift cannot be judged) and categorical columns over the category cap.
The log adds its own while reading (two spellings of the timestamps).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checks.drift import OTHER
from monitor.config.schema import ModelConfig
from monitor.scans.result import CheckRow


def notes(
    model: ModelConfig,
    *,
    status: str,
    rows: Mapping[str, int | None],
    reference: Mapping[str, Any],
    results: Iterable[CheckRow],
) -> list[str]:
    if status == "error":
        return []
    return [*_empty_reference(model, rows, reference), *_capped(model, results)]


def _empty_reference(
    model: ModelConfig, rows: Mapping[str, int | None], ref: Mapping[str, Any]
) -> list[str]:
    """An empty reference makes every drift check "insufficient data": say it in words."""
    if not model.checks.drift.enabled or rows.get("reference") != 0:
        return []
    where = ref.get("table") or ref.get("file") or f"{ref.get('start')} .. {ref.get('end')}"
    return [f"drift not judged: reference has 0 rows ({ref.get('kind')} {where})"]


def _capped(model: ModelConfig, results: Iterable[CheckRow]) -> list[str]:
    found = []
    for row in results:
        details = row.outcome.details
        if row.segment or "categories_kept" not in details:
            continue  # a segment's cap repeats its whole window's
        column = details.get("column") or getattr(row.outcome, "column", row.outcome.check)
        distinct = details["distinct"]
        found.append(
            f"model {model.name!r}: column {column!r} has {distinct['current']} distinct values "
            f"in the live window ({distinct['reference']} in the reference); the "
            f"{details['categories_kept']} most frequent are kept, the rest counted as one "
            f"category {OTHER!r} (checks.drift.max_categories)"
        )
    return found
