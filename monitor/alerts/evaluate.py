"""Entry point the scan calls, in its own transaction, right after storing a scan's results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from monitor.alerts.conditions import CheckSignal, ConditionChange, fold, observe_scan
from monitor.alerts.lifecycle import apply_change, open_alerts
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.alerts.segments import combine
from monitor.alerts.store import Transition
from monitor.store import WHOLE_WINDOW


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
    keys = _threshold_keys(signals)
    counted = observe_scan(
        session=session,
        model=model,
        observations=[(o, keys.get((o.check_id, o.segment))) for o in fold(signals)],
        window_end=window_end,
        policy=policy,
        now=now,
    )
    if not counted:
        return []  # a re-scan (or no alerting check): nothing counted, no alert moves
    by_check: dict[str, list[ConditionChange]] = {}
    for change in counted:
        by_check.setdefault(change.check_id, []).append(change)
    # The model's open alerts, read once: each change below moves the one of its key.
    alerts = open_alerts(session, model)
    transitions = []
    for change in _alert_changes(set(alerts), by_check, policy):
        transition = apply_change(
            session=session,
            model=model,
            change=change,
            policy=policy,
            routing=routing,
            now=now,
            window_end=window_end,
            hold=hold,
            alerts=alerts,
        )
        if transition is not None:
            transitions.append(transition)
    return transitions


def _alert_changes(
    open_keys: set[tuple[str, str]],
    by_check: dict[str, list[ConditionChange]],
    policy: AlertPolicy,
) -> list[ConditionChange]:
    """One change per alert key: per segment for ``segment_alerts`` checks, else combined.

    Alerts opened per segment before a check alerted once for all (stored before the
    upgrade, or under ``segments: each``) still follow their own segment until they close;
    meanwhile that segment is left out of the check's alert, so nothing is announced twice.
    ``open_keys``: the (check id, segment) of the model's open alerts.
    """
    own = {(check_id, segment) for check_id, segment in open_keys if segment != WHOLE_WINDOW}
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


def _threshold_keys(signals: Sequence[CheckSignal]) -> dict[tuple[str, str], str]:
    """Per (check id, segment), the thresholds of every rung of the check: changing any of
    them resets its debounce. A check with no threshold has no key."""
    thresholds: dict[tuple[str, str], set[float]] = {}
    for s in signals:
        if s.threshold is not None:
            thresholds.setdefault((s.check_id, s.segment or ""), set()).add(s.threshold)
    return {
        key: ",".join(f"{t:.12g}" for t in sorted(values)) for key, values in thresholds.items()
    }


def as_utc(moment: datetime) -> datetime:
    """Naive times are UTC (as everywhere in the service)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
