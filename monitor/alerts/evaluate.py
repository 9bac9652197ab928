"""Entry point the scan calls, in its own transaction, right after storing a scan's results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts.conditions import CheckSignal, ConditionChange, fold, observe
from monitor.alerts.lifecycle import apply_change
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.alerts.segments import combine
from monitor.alerts.store import Transition
from monitor.store import OPEN_STATES, WHOLE_WINDOW, Alert


def evaluate_scan(
    *,
    session: Session,
    model: str,
    window_end: datetime,
    signals: Sequence[CheckSignal],
    policy: AlertPolicy,
    routing: Routing,
    now: datetime,
    hold: bool = False,
) -> list[Transition]:
    """Count this scan's results into the conditions and move the alerts; never commits.

    ``hold``: part of a backfill; the notifications are held for its end (``apply_change``).

    ``signals`` are all check results of the scan (every segment, every rung of a threshold
    ladder). A window at or before the last window counted for a check is a re-scan (late
    labels, a manual re-run): its results are stored by the scan but do not count again.
    """
    window_end = as_utc(window_end)
    by_check: dict[str, list[ConditionChange]] = {}
    for observation in fold(signals):
        change = observe(
            session=session,
            model=model,
            observation=observation,
            window_end=window_end,
            policy=policy,
            threshold_key=_threshold_key(signals, observation.check_id, observation.segment),
            now=now,
        )
        if change is not None:
            by_check.setdefault(change.check_id, []).append(change)
    transitions = []
    for change in _alert_changes(session, model, by_check, policy):
        transition = apply_change(
            session=session,
            model=model,
            change=change,
            policy=policy,
            routing=routing,
            now=now,
            window_end=window_end,
            hold=hold,
        )
        if transition is not None:
            transitions.append(transition)
    return transitions


def _alert_changes(
    session: Session,
    model: str,
    by_check: dict[str, list[ConditionChange]],
    policy: AlertPolicy,
) -> list[ConditionChange]:
    """One change per alert key: per segment for ``segment_alerts`` checks, else combined.

    Alerts opened per segment before a check alerted once for all (stored before the
    upgrade, or under ``segments: each``) still follow their own segment until they close;
    meanwhile that segment is left out of the check's alert, so nothing is announced twice.
    """
    own = _open_segment_alerts(session, model)
    changes: list[ConditionChange] = []
    for check_id, group in by_check.items():
        if check_id in policy.segment_alerts:
            changes += group
            continue
        mine = [c for c in group if (check_id, c.segment) in own]
        rest = [c for c in group if (check_id, c.segment) not in own]
        changes += mine
        if rest:
            changes.append(combine(check_id, rest))
    return changes


def _open_segment_alerts(session: Session, model: str) -> set[tuple[str, str]]:
    rows = session.execute(
        select(Alert.check_id, Alert.segment).where(
            Alert.model == model, Alert.segment != WHOLE_WINDOW, Alert.state.in_(OPEN_STATES)
        )
    )
    return {(check_id, segment) for check_id, segment in rows}


def _threshold_key(signals: Sequence[CheckSignal], check_id: str, segment: str) -> str | None:
    """The thresholds of every rung of the check: changing any of them resets its debounce."""
    thresholds = sorted(
        {
            s.threshold
            for s in signals
            if s.check_id == check_id and (s.segment or "") == segment and s.threshold is not None
        }
    )
    return ",".join(f"{t:.12g}" for t in thresholds) if thresholds else None


def as_utc(moment: datetime) -> datetime:
    """Naive times are UTC (as everywhere in the service)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
