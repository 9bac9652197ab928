"""Scan-driven transitions: a debounced condition change moves the alert for its key.

Their times are data time: ``raised_at``, ``last_breach_at``, ``recovered_at`` and each event's
``at`` are the window end of the scan that caused them, so a backfilled alert is dated by the
data it is about; the wall clock is kept as ``recorded_at``. Timers (reminders) run on the
wall clock.

Service functions take the session as a keyword and never commit: the scan, its results, these
transitions, their events and their outbox rows commit together or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts.conditions import RANK, ConditionChange
from monitor.alerts.notify import ThreadEvent
from monitor.alerts.outbox import enqueue
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.alerts.segments import listed_names
from monitor.alerts.store import Transition, cas, load, record
from monitor.store import OPEN_STATES, SEVERITIES, Alert

SCAN_ACTOR = "scan"
_MAX_CAS_ATTEMPTS = 5


def open_alert(session: Session, model: str, check_id: str, segment: str) -> Alert | None:
    query = select(Alert).where(
        Alert.model == model,
        Alert.check_id == check_id,
        Alert.segment == segment,
        Alert.state.in_(OPEN_STATES),
    )
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def apply_change(
    *,
    session: Session,
    model: str,
    change: ConditionChange,
    policy: AlertPolicy,
    routing: Routing,
    now: datetime,
    window_end: datetime,
) -> Transition | None:
    """Move the open alert of this key (or open one) according to the condition change.

    When the compare-and-set loses, the alert is read again and the change decided anew; if
    someone closed it meanwhile (an acknowledgement of a recovered alert resolves it), a
    breach opens a new alert, as it would have a moment later.
    """
    alert: Alert | None = open_alert(session, model, change.check_id, change.segment)
    for _ in range(_MAX_CAS_ATTEMPTS):
        if alert is None:
            if change.current in SEVERITIES and change.observation.state in SEVERITIES:
                return _raise(session, model, change, policy, routing, now, window_end)
            return None
        step = _step(alert, change, policy, now, window_end)
        if step is None:
            return None
        kind, changes = step
        from_state, acker = alert.state, alert.acked_by
        listed = listed_names(alert.segments)
        if cas(session, alert, changes):
            if kind == "observed" and listed_names(alert.segments) != listed:
                enqueue(session, alert, "update", now=now)  # the parent lists the segments
            reply = _reply(alert, kind, from_state, acker, change, routing)
            return _announce(session, alert, kind, from_state, change, reply, now, window_end)
        alert = load(session, alert.id)
        if not alert.is_open:
            alert = None
    key = f"{model} {change.check_id}"
    raise RuntimeError(f"alert of {key}: gave up after {_MAX_CAS_ATTEMPTS} concurrent updates")


def _raise(
    session: Session,
    model: str,
    change: ConditionChange,
    policy: AlertPolicy,
    routing: Routing,
    now: datetime,
    window_end: datetime,
) -> Transition:
    severity = change.current
    obs = change.observation
    interval = policy.reminder_interval(severity)
    alert = Alert(
        model=model,
        check_id=change.check_id,
        segment=change.segment,
        state="firing",
        severity=severity,
        condition=severity,
        occurrences=1,
        value=obs.value,
        threshold=obs.threshold,
        summary=obs.summary,
        segments=[s.stored() for s in change.segments],
        runbook=policy.runbook,
        raised_at=window_end,
        recorded_at=now,
        last_breach_at=window_end,
        next_reminder_at=now + interval if interval else None,
        remind_every_s=_seconds(interval),
        version=1,
    )
    session.add(alert)
    session.flush()
    channel = routing.channel_for(severity=severity, model_channel=policy.channel)
    mention = routing.mention_for(severity) or ""
    data = {"mention": mention} if mention else {}
    enqueue(session, alert, "post", now=now, channel=channel, data=data)
    return record(
        session,
        alert,
        kind="raised",
        from_state=None,
        actor=SCAN_ACTOR,
        now=now,
        at=window_end,
        reason=obs.summary,
        window_end=window_end,
        details=_details(change),
    )


def _step(
    alert: Alert, change: ConditionChange, policy: AlertPolicy, now: datetime, at: datetime
) -> tuple[str, dict[str, Any]] | None:
    """The transition (kind, column changes) this change causes on ``alert``, if any.

    ``now`` (wall clock) sets timers; ``at`` (the window end) dates the transition.
    """
    step = _plan(alert, change, policy, now, at)
    if step is None or step[0] != "observed":
        return step
    # A scan that changes nothing must not bump the version (it would make a concurrent
    # acknowledgement retry for no reason).
    changed = {k: v for k, v in step[1].items() if getattr(alert, k) != v}
    return ("observed", changed) if changed else None


def _plan(
    alert: Alert, change: ConditionChange, policy: AlertPolicy, now: datetime, at: datetime
) -> tuple[str, dict[str, Any]] | None:
    obs = change.observation
    segments = [s.stored() for s in change.segments]
    base: dict[str, Any] = {"condition": change.current, "segments": segments}
    if obs.state in SEVERITIES:
        base.update(value=obs.value, threshold=obs.threshold, summary=obs.summary)
        base["last_breach_at"] = at
    if change.current == "ok":
        return _on_clear(alert, base, at)
    if change.current not in SEVERITIES or obs.state not in SEVERITIES:
        return "observed", base
    return _on_breach(alert, change.current, base, policy, now)


def _on_clear(alert: Alert, base: dict[str, Any], at: datetime) -> tuple[str, dict[str, Any]]:
    if alert.state == "firing":
        return "recovered", {
            **base,
            "state": "recovered",
            "recovered_at": at,
            "next_reminder_at": None,
        }
    if alert.state == "acknowledged":
        return "resolved", {
            **base,
            "state": "resolved",
            "resolved_at": at,
            "resolved_by": SCAN_ACTOR,
            "resolve_reason": "recovered_after_ack",
            "next_reminder_at": None,
            "snoozed_until": None,
        }
    return "observed", base


def _on_breach(
    alert: Alert, severity: str, base: dict[str, Any], policy: AlertPolicy, now: datetime
) -> tuple[str, dict[str, Any]]:
    interval = policy.reminder_interval(severity)
    timers = {
        "next_reminder_at": now + interval if interval else None,
        "remind_every_s": _seconds(interval),
        "reminders_sent": 0,
    }
    worse = RANK[severity] > RANK[alert.severity]
    if alert.state == "recovered":
        return "refired", {
            **base,
            **timers,
            "state": "firing",
            "severity": severity,
            "occurrences": alert.occurrences + 1,
            "recovered_at": None,
        }
    if alert.state == "acknowledged" and worse:
        # An acknowledgement covers the severity it was given for; worsening re-pages.
        return "escalated", {
            **base,
            **timers,
            "state": "firing",
            "severity": severity,
            "acked_at": None,
            "acked_by": None,
            "ack_note": None,
        }
    if severity != alert.severity:
        kind = "escalated" if worse else "deescalated"
        keep_timer = alert.state != "firing" or not worse
        changes = {**base, "severity": severity, "remind_every_s": _seconds(interval)}
        if not keep_timer:
            changes["next_reminder_at"] = timers["next_reminder_at"]
            changes["reminders_sent"] = 0
        return kind, changes
    return "observed", base


def _announce(
    session: Session,
    alert: Alert,
    kind: str,
    from_state: str,
    change: ConditionChange,
    reply: tuple[ThreadEvent, bool],
    now: datetime,
    window_end: datetime,
) -> Transition | None:
    """Write the event and outbox rows of a scan-driven transition."""
    if kind == "observed":
        return None  # value refreshed; the next message edit shows it, no event needed
    event, broadcast = reply
    enqueue(session, alert, "update", now=now)
    enqueue(
        session, alert, "reply", now=now, event=event.kind, data=event.data, broadcast=broadcast
    )
    reason = {"resolved": "recovered_after_ack"}.get(kind, change.observation.summary)
    return record(
        session,
        alert,
        kind=kind,
        from_state=from_state,
        actor=SCAN_ACTOR,
        now=now,
        at=window_end,
        reason=reason,
        window_end=window_end,
        details=_details(change),
    )


def _reply(
    alert: Alert,
    kind: str,
    from_state: str,
    acker: str | None,
    change: ConditionChange,
    routing: Routing,
) -> tuple[ThreadEvent, bool]:
    """The thread event of a scan-driven transition, and whether it goes to the channel too
    (only a re-fire or an escalation pages again)."""
    if kind in ("resolved", "recovered"):
        # The breaching value stays on the alert; the reply shows the current one beside it.
        now_value = {"value": change.observation.value, "breaching": alert.value}
        name = "recovered_after_ack" if kind == "resolved" else "recovered"
        return ThreadEvent(name, now_value), False
    data: dict[str, object] = {
        "severity": alert.severity,
        "summary": change.observation.summary or alert.check_id,
        "occurrences": alert.occurrences,
    }
    if kind == "deescalated":
        return ThreadEvent(kind, data), False
    data["mention"] = routing.mention_for(alert.severity)
    if kind == "escalated" and from_state == "acknowledged":
        data["cleared_ack_by"] = acker
    return ThreadEvent(kind, data), True


def _details(change: ConditionChange) -> dict[str, Any]:
    obs = change.observation
    return {
        "condition": change.current,
        "previous_condition": change.previous,
        "observed": obs.state,
        "value": obs.value,
        "threshold": obs.threshold,
        **({"segments": [s.segment for s in change.segments]} if change.segments else {}),
    }


def _seconds(interval: timedelta | None) -> int | None:
    return int(interval.total_seconds()) if interval else None
