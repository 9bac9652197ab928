"""Condition layer: turn one scan's check results into debounced ok / warning / critical.

A check's results in one scan are folded into one observation: the worst failing severity of
its entries (a threshold ladder is one check), ``ok`` when none fails and at least one passed,
and "insufficient" when every entry is (missing data never clears or raises anything). The
``raise_after`` / ``clear_after`` streaks are kept per (model, check id, segment) in the DB;
a window at or before the last one counted is a re-scan and is not counted again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts.policy import AlertPolicy
from monitor.store import SEVERITIES, WHOLE_WINDOW, AlertCondition

# Severity order: a worse condition escalates an alert and wins among failing segments.
RANK = {"ok": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class CheckSignal:
    """What the alert layer needs from one stored check result."""

    check_id: str
    passed: bool | None  # None: insufficient data
    severity: str | None = None  # severity configured for this entry, used when it fails
    value: float | None = None
    threshold: float | None = None
    segment: str | None = None
    summary: str = ""  # e.g. "accuracy 0.74 < 0.80"


@dataclass(frozen=True)
class Observation:
    """One scan's verdict on one (check id, segment)."""

    check_id: str
    segment: str
    state: str | None  # ok | warning | critical | None (insufficient)
    value: float | None
    threshold: float | None
    summary: str


@dataclass(frozen=True)
class FailingSegment:
    """One segment whose debounced condition is failing, as listed on its check's alert."""

    segment: str
    severity: str
    value: float | None
    threshold: float | None
    summary: str

    def stored(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ConditionChange:
    """The debounced condition after an observation, and what it was before."""

    check_id: str
    segment: str
    previous: str
    current: str
    observation: Observation
    # The failing segments of a check alerting once for all its segments (alerts.segments).
    segments: tuple[FailingSegment, ...] = ()


def fold(signals: Iterable[CheckSignal]) -> list[Observation]:
    """Group signals by (check id, segment) and keep the worst verdict of each group."""
    groups: dict[tuple[str, str], list[CheckSignal]] = {}
    for signal in signals:
        key = (signal.check_id, signal.segment or WHOLE_WINDOW)
        groups.setdefault(key, []).append(signal)
    return [_fold_group(check_id, segment, group) for (check_id, segment), group in groups.items()]


def _fold_group(check_id: str, segment: str, group: Sequence[CheckSignal]) -> Observation:
    failing = [s for s in group if s.passed is False]
    if failing:
        worst = max(failing, key=lambda s: RANK[_severity(s)])
        return Observation(
            check_id, segment, _severity(worst), worst.value, worst.threshold, worst.summary
        )
    passing = [s for s in group if s.passed is True]
    if passing:
        # The strictest rung passing is the one closest to failing: report that threshold.
        first = passing[-1]
        return Observation(check_id, segment, "ok", first.value, first.threshold, first.summary)
    return Observation(check_id, segment, None, group[0].value, None, group[0].summary)


def _severity(signal: CheckSignal) -> str:
    severity = signal.severity or "warning"
    if severity not in SEVERITIES:
        raise ValueError(
            f"check {signal.check_id!r}: severity must be one of {SEVERITIES}, got {severity!r}"
        )
    return severity


def observe_scan(
    *,
    session: Session,
    model: str,
    observations: Sequence[tuple[Observation, str | None]],
    window_end: datetime,
    policy: AlertPolicy,
    now: datetime,
) -> list[ConditionChange]:
    """Count one scan's observations (each with its threshold key) into their conditions.

    The model's condition rows of these checks are read in one query and written in one
    flush; an observation at or before the last window counted (a re-scan) is left out.
    Each (check id, segment) is counted on its own row, independently of the others.
    """
    check_ids = {observation.check_id for observation, _ in observations}
    if not check_ids:
        return []
    query = select(AlertCondition).where(
        AlertCondition.model == model, AlertCondition.check_id.in_(sorted(check_ids))
    )
    rows = {(row.check_id, row.segment): row for row in session.scalars(query)}
    changes: list[ConditionChange] = []
    with session.no_autoflush:
        for observation, threshold_key in observations:
            key = (observation.check_id, observation.segment)
            row = rows.get(key)
            if row is None:
                row = rows[key] = _new_row(session, model, key[0], key[1], now)
            change = _count(row, observation, window_end, policy, threshold_key, now)
            if change is not None:
                changes.append(change)
    if changes:
        session.flush()
    return changes


def _count(
    row: AlertCondition,
    observation: Observation,
    window_end: datetime,
    policy: AlertPolicy,
    threshold_key: str | None,
    now: datetime,
) -> ConditionChange | None:
    if row.last_window_end is not None and window_end <= row.last_window_end:
        return None
    if threshold_key is not None and row.threshold_key != threshold_key:
        if row.threshold_key is not None:
            row.breach_streak = row.ok_streak = 0
        row.threshold_key = threshold_key
    previous = row.state
    row.state = _next_state(row, observation.state, policy)
    row.last_window_end = window_end
    row.value, row.threshold, row.updated_at = observation.value, observation.threshold, now
    return ConditionChange(
        observation.check_id, observation.segment, previous, row.state, observation
    )


def _next_state(row: AlertCondition, observed: str | None, policy: AlertPolicy) -> str:
    if observed is None:
        return row.state
    if observed == "ok":
        row.breach_streak, row.ok_streak = 0, row.ok_streak + 1
        if row.state != "ok" and row.ok_streak >= policy.clear_after:
            return "ok"
        return row.state
    row.ok_streak, row.breach_streak = 0, row.breach_streak + 1
    # Once confirmed, severity follows the latest scan: escalation is not debounced again.
    if row.state != "ok" or row.breach_streak >= policy.raise_after:
        return observed
    return row.state


def _new_row(
    session: Session, model: str, check_id: str, segment: str, now: datetime
) -> AlertCondition:
    row = AlertCondition(
        model=model,
        check_id=check_id,
        segment=segment,
        state="ok",
        breach_streak=0,
        ok_streak=0,
        updated_at=now,
    )
    session.add(row)
    return row


def current_conditions(*, session: Session, model: str | None = None) -> list[AlertCondition]:
    """Every condition row (of one model), for the health report."""
    query = select(AlertCondition).order_by(AlertCondition.model, AlertCondition.check_id)
    if model is not None:
        query = query.where(AlertCondition.model == model)
    return list(session.scalars(query))
