"""Times stored as text in two ISO spellings: ``2026-03-02 10:00:00`` and ``2026-03-02T10:00:00``.

SQLite has no timestamp type, and a log written by two programs (``str(datetime)`` and
``datetime.isoformat()``) holds both spellings. Text compares character by character and a
space sorts before ``T``, so bounds spelled one way put rows spelled the other way on the
wrong side of the window: half the rows went missing without a word.

So a window over text times is read as one range per spelling present in it, each range
spelled like its rows and restricted to them by the character at position 11 (all bound
parameters); which spellings are present is counted first, once per window, and a window
holding both gets a warning naming the model and the column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from monitor.sources.bounds import bound
from monitor.windows import Window, isoformat_z

SEPARATORS = (" ", "T")


def applies(sample: Any) -> bool:
    """Whether stored times look like ``sample``: text with a date and a time."""
    return isinstance(sample, str) and len(sample) > 10 and sample[10] in SEPARATORS


def within(
    ts: sa.ColumnElement[Any], window: Window, sample: str, zone: str, present: Sequence[str]
) -> tuple[sa.ColumnElement[bool], ...]:
    """``start <= ts < end`` for rows of each spelling in ``present``."""
    terms = [
        sa.and_(
            _separator(ts) == sa.literal(sep, sa.String()),
            ts >= bound(window.start, respell(sample, sep), zone),
            ts < bound(window.end, respell(sample, sep), zone),
        )
        for sep in present
    ]
    return (terms[0],) if len(terms) == 1 else (sa.or_(*terms),)


def census(
    ts: sa.ColumnElement[Any], source: sa.FromClause, window: Window, sample: str, zone: str
) -> sa.Select[*tuple[Any, ...]]:
    """Per spelling in ``window``: its separator, its rows and the earliest of them (one
    pass: one range scan per spelling with an index on the times, else one table scan)."""
    sep = _separator(ts)
    return (
        sa.select(sep, sa.func.count(), sa.func.min(sa.type_coerce(ts, sa.String())))
        .select_from(source)
        .where(*within(ts, window, sample, zone, SEPARATORS))
        .group_by(sep)
    )


def mixed_warning(model: str, column: str, window: Window, found: Sequence[Any]) -> str:
    """``found``: census rows (separator, rows, example) of the spellings present."""
    examples = " and ".join(f"{example!r} ({rows} rows)" for _, rows, example in found)
    return (
        f"model {model!r}: timestamp column {column!r} holds times in two spellings in the "
        f"window {isoformat_z(window.start)} .. {isoformat_z(window.end)}: {examples}; both "
        "are read, but write one spelling (ISO 8601, with 'T' or with a space) throughout"
    )


def respell(sample: str, sep: str) -> str:
    return sample[:10] + sep + sample[11:]


def _separator(ts: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    return sa.func.substr(sa.type_coerce(ts, sa.String()), 11, 1, type_=sa.String())
