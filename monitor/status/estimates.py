"""Estimated vs realised performance of a model's recent windows (``performance_estimate``).

A window whose labels are pending shows the estimate with its band ("accuracy 0.78
(estimated ± 0.02, labels pending)"); once a later scan brought the labels, the realised
value comes first and the estimate beside it. The estimation error (realised - estimated)
is tracked over the windows that have both: a gap that grows is the sign of what CBPE
cannot see, a change in how inputs relate to the label (concept drift).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from monitor import views
from monitor.store import WHOLE_WINDOW, tables
from monitor.store.rows import PerformanceEstimateRow, Reader
from monitor.windows import isoformat_z

PerformanceEstimate = tables.performance_estimate.c  # Core columns (see monitor.status.inputs)

#: windows shown, newest first
HISTORY = 30
#: estimated-realised pairs the error is tracked over (per model, all metrics and segments)
TRACKED = 2_000


def estimated_performance(model: str, *, session: Reader) -> views.EstimatedPerformance | None:
    """The whole window's estimates and, for a segmented model, each segment's."""
    ends = list(
        session.scalars(
            select(PerformanceEstimate.window_end)
            .where(PerformanceEstimate.model == model)
            .group_by(PerformanceEstimate.window_end)
            .order_by(PerformanceEstimate.window_end.desc())
            .limit(HISTORY)
        )
    )
    if not ends:
        return None
    rows = session.execute(
        select(tables.performance_estimate)
        .where(PerformanceEstimate.model == model, PerformanceEstimate.window_end >= ends[-1])
        .order_by(
            PerformanceEstimate.segment,
            PerformanceEstimate.window_end.desc(),
            PerformanceEstimate.metric,
        )
    ).all()
    by_segment: dict[str, list[PerformanceEstimateRow]] = {}
    for row in rows:
        by_segment.setdefault(row.segment, []).append(row)
    tracked = session.execute(
        select(tables.performance_estimate)
        .where(PerformanceEstimate.model == model, PerformanceEstimate.realised.is_not(None))
        .order_by(PerformanceEstimate.window_end.desc())
        .limit(TRACKED)
    ).all()
    errors: dict[str, list[PerformanceEstimateRow]] = {}
    for row in tracked:
        errors.setdefault(row.segment, []).append(row)
    whole = by_segment.pop(WHOLE_WINDOW, [])
    recent, error = _windows(whole), _errors(errors.get(WHOLE_WINDOW, []), _metrics(whole))
    return views.EstimatedPerformance(
        recent=recent,
        error=error,
        segments={
            segment: views.SegmentEstimates(
                recent=_windows(part), error=_errors(errors.get(segment, []), _metrics(part))
            )
            for segment, part in by_segment.items()
        },
    )


def _metrics(rows: Sequence[PerformanceEstimateRow]) -> list[str]:
    return sorted({row.metric for row in rows})


def _windows(rows: Sequence[PerformanceEstimateRow]) -> list[views.EstimatedWindow]:
    """One slice's rows (window end descending) as windows, newest first."""
    windows: dict[str, views.EstimatedWindow] = {}
    for row in rows:
        end = isoformat_z(row.window_end)
        shown = windows.setdefault(
            end,
            views.EstimatedWindow(
                window_start=isoformat_z(row.window_start), window_end=end, metrics={}
            ),
        )
        shown.metrics[row.metric] = _value(row)
    return list(windows.values())


def _value(row: PerformanceEstimateRow) -> views.EstimatedValue:
    arrived = row.realised is not None
    error = None
    if row.realised is not None and row.estimated is not None:
        error = row.realised - row.estimated
    return views.EstimatedValue(
        estimated=row.estimated,
        lower=row.lower,
        upper=row.upper,
        sampling_error=row.sampling_error,
        realised=row.realised,
        labelled=row.labelled,
        error=error,
        labels="arrived" if arrived else "pending",
        text=estimate_text(row),
    )


def estimate_text(row: PerformanceEstimateRow) -> str:
    """One line: the realised value when it exists, else the estimate with its band."""
    band = (row.upper - row.lower) / 2 if row.upper is not None and row.lower is not None else None
    plus = f" ± {band:.2f}" if band is not None else ""
    if row.realised is not None:
        estimate = f"{row.estimated:.2f}{plus}" if row.estimated is not None else "none"
        return f"{row.metric} {row.realised:.2f} (realised; estimated {estimate})"
    if row.estimated is None:
        return f"{row.metric}: no estimate (labels pending)"
    return f"{row.metric} {row.estimated:.2f} (estimated{plus}, labels pending)"


def _errors(
    rows: Sequence[PerformanceEstimateRow], metrics: list[str]
) -> dict[str, views.EstimationError]:
    found: dict[str, list[float]] = {}
    for row in rows:  # newest first
        if row.realised is not None and row.estimated is not None:
            found.setdefault(row.metric, []).append(row.realised - row.estimated)
    return {
        m: views.EstimationError(
            windows=len(found.get(m, [])),
            mean_abs_error=sum(abs(e) for e in found[m]) / len(found[m]) if found.get(m) else None,
            last_error=found[m][0] if found.get(m) else None,
        )
        for m in metrics
    }
