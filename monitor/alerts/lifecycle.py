"""Scan-driven transitions: a debounced condition change moves the alert for its key.

Their times are data time: ``raised_at``, ``last_breach_at``, ``recovered_at`` and each event's
``at`` are the window end of the scan that caused them, so a backfilled alert is dated by the
data it is about; the wall clock is kept as ``recorded_at``. Timers (reminders) run on the
wall clock.

Service functions take the session as a keyword and never commit: the scan, its results, these
transitions, their events and their outbox rows commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts import flapping
from monitor.alerts.conditions import RANK, ConditionChange
from monitor.alerts.notify import ThreadEvent
from monitor.alerts.outbox import enqueue, posted_missing
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


def open_alerts(session: Session, model: str) -> dict[tuple[str, str], Alert]:
    """The open alerts of ``model`` by (check id, segment), read afresh in one query (at
    most one per key: the ``uq_alert_open_key`` index)."""
    query = select(Alert).where(Alert.model == model, Alert.state.in_(OPEN_STATES))
    rows = session.scalars(query.execution_options(populate_existing=True))
    return {(alert.check_id, alert.segment): alert for alert in rows}


def apply_change(
    *,
    session: Session,
    model: str,
    change: ConditionChange,
    policy: AlertPolicy,
    routing: Routing,
    now: datetime,
    window_end: datetime,
    hold: bool = False,
    alerts: Mapping[tuple[str, str], Alert] | None = None,
) -> Transition | None:
    """Move the open alert of this key (or open one) according to the condition change.

    ``alerts``: the model's open alerts by (check id, segment), as :func:`open_alerts`
    read them for this scan; without it the alert of this key is read here.

    ``hold``: the outbox rows are written held (a backfill): the transition and its event
    are recorded as usual, and the backfill's end notifies the final state once.

    When the compare-and-set loses, the alert is read again and the change decided anew; if
    someone closed it meanwhile (an acknowledgement of a recovered alert resolves it), a
    breach opens a new alert, as it would have a moment later.
    """
    key = (change.check_id, change.segment)
    alert = alerts.get(key) if alerts is not None else open_alert(session, model, *key)
    for _ in range(_MAX_CAS_ATTEMPTS):
        if alert is None:
            if change.current in SEVERITIES and change.observation.state in SEVERITIES:
                return _raise(session, model, change, policy, routing, now, window_end, hold)
            return None
        step = _step(alert, change, policy, now, window_end)
        if step is None:
            return _calm(session, alert, policy, now, window_end, hold)
        kind, changes = step
        flips = flapping.starts_flapping(session, alert, kind, policy, window_end)
        if flips:
            changes["flapping_since"] = window_end
        from_state, acker, was = alert.state, alert.acked_by, alert.severity
        listed = listed_names(alert.segments)
        if cas(session, alert, changes):
            if kind == "observed":
                if listed_names(alert.segments) != listed:
                    # the parent lists the failing segments: edit it, no thread reply
                    enqueue(session, alert, "update", now=now, held=hold)
                return _calm(session, alert, policy, now, window_end, hold)
            reply: tuple[ThreadEvent, bool] | None = _reply(
                alert, kind, (from_state, was), acker, change, routing
            )
            if alert.flapping_since is not None and kind in flapping.MUTED:
                reply = _flapping_notice(alert, flips, policy) if flips else None
            if kind in ("escalated", "refired"):
                post_to_destinations(session, alert, policy, routing, now, hold=hold)
            return _announce(session, alert, kind, from_state, change, reply, now, window_end, hold)
        alert = load(session, alert.id)
        if not alert.is_open:
            alert = None
    name = f"{model} {change.check_id}"
    raise RuntimeError(f"alert of {name}: gave up after {_MAX_CAS_ATTEMPTS} concurrent updates")


def _raise(
    session: Session,
    model: str,
    change: ConditionChange,
    policy: AlertPolicy,
    routing: Routing,
    now: datetime,
    window_end: datetime,
    hold: bool,
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
        escalate_at=_escalate_at(severity, policy, now),
        ack_timeout_s=_seconds(policy.ack_timeout),
        version=1,
    )
    if flapping.new_alert_flapping(
        session, model, change.check_id, change.segment, policy, window_end
    ):
        alert.flapping_since = window_end
    session.add(alert)
    session.flush()
    post_to_destinations(session, alert, policy, routing, now, hold=hold)
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


def post_to_destinations(
    session: Session,
    alert: Alert,
    policy: AlertPolicy,
    routing: Routing,
    now: datetime,
    *,
    hold: bool = False,
) -> None:
    """Post ``alert`` to each destination that takes its severity and has not had it yet
    (all of them when it is raised; those an escalation reaches, later)."""
    channels = routing.post_channels(
        model=alert.model, severity=alert.severity, model_channel=policy.channel
    )
    mention = routing.mention_for(alert.severity) or ""
    data = {"mention": mention} if mention else {}
    for channel in posted_missing(session, alert, channels):
        enqueue(session, alert, "post", now=now, channel=channel, data=data, held=hold)


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
            "escalate_at": None,
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
            "ack_expires_at": None,
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
        "escalate_at": _escalate_at(severity, policy, now),
        "ack_timeout_s": _seconds(policy.ack_timeout),
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
            "ack_expires_at": None,
        }
    if severity != alert.severity:
        kind = "escalated" if worse else "deescalated"
        keep_timer = alert.state != "firing" or not worse
        changes = {**base, "severity": severity, "remind_every_s": _seconds(interval)}
        if not keep_timer:
            changes["next_reminder_at"] = timers["next_reminder_at"]
            changes["reminders_sent"] = 0
        if not worse:
            changes["escalate_at"] = None
        elif alert.state == "firing" and alert.escalate_at is None:
            changes["escalate_at"] = timers["escalate_at"]
        return kind, changes
    return "observed", base


def _announce(
    session: Session,
    alert: Alert,
    kind: str,
    from_state: str,
    change: ConditionChange,
    reply: tuple[ThreadEvent, bool] | None,
    now: datetime,
    window_end: datetime,
    hold: bool,
) -> Transition | None:
    """Write the event and outbox rows of a scan-driven transition."""
    if kind == "observed":
        return None  # value refreshed; the next message edit shows it, no event needed
    if reply is not None:  # None: a flip of a flapping alert, recorded and not posted
        event, broadcast = reply
        enqueue(session, alert, "update", now=now, held=hold)
        enqueue(
            session,
            alert,
            "reply",
            now=now,
            event=event.kind,
            data=event.data,
            broadcast=broadcast,
            held=hold,
        )
    reason = {"resolved": "recovered_after_ack"}.get(kind, change.observation.summary)
    if reply is not None and reply[0].kind == "flapping":
        record(
            session,
            alert,
            kind="flapping",
            from_state=alert.state,
            actor=SCAN_ACTOR,
            now=now,
            at=window_end,
            reason=f"{reply[0].data['flips']} changes in {reply[0].data['hours']:.0f} h",
            window_end=window_end,
        )
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
    before: tuple[str, str],
    acker: str | None,
    change: ConditionChange,
    routing: Routing,
) -> tuple[ThreadEvent, bool]:
    """The thread event of a scan-driven transition, and whether it goes to the channel too.

    Only an escalation pages again (broadcast, with the severity's mention): warning ->
    critical, including a re-fire at a worse severity than the alert had. A re-fire at the
    same severity is a quiet thread reply; the edited parent shows it firing again.
    """
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
    from_state, was = before
    if kind == "refired" and RANK[alert.severity] <= RANK[was]:
        return ThreadEvent(kind, data), False
    data["mention"] = routing.mention_for(alert.severity)
    if kind == "escalated" and from_state == "acknowledged":
        data["cleared_ack_by"] = acker
    return ThreadEvent(kind, data), True


def _flapping_notice(alert: Alert, flips: int, policy: AlertPolicy) -> tuple[ThreadEvent, bool]:
    data = {
        "flips": flips,
        "hours": policy.flap_window.total_seconds() / 3600,
        "quiet_hours": policy.flap_quiet.total_seconds() / 3600,
        "state": alert.state,
        "severity": alert.severity,
    }
    return ThreadEvent("flapping", data), False


def _calm(
    session: Session,
    alert: Alert,
    policy: AlertPolicy,
    now: datetime,
    at: datetime,
    hold: bool,
) -> Transition | None:
    """End the flapping of ``alert`` after ``flap_quiet`` without a flip: one reply says so."""
    if not flapping.calmed(session, alert, policy, at):
        return None
    if not cas(session, alert, {"flapping_since": None}):
        return None  # someone acted on it meanwhile; the next scan looks again
    data = {"state": alert.state, "severity": alert.severity, "summary": alert.summary}
    enqueue(session, alert, "update", now=now, held=hold)
    enqueue(session, alert, "reply", now=now, event="flapping_ended", data=data, held=hold)
    return record(
        session,
        alert,
        kind="flapping_ended",
        from_state=alert.state,
        actor=SCAN_ACTOR,
        now=now,
        at=at,
        reason=f"no change for {policy.flap_quiet.total_seconds() / 3600:.0f} h",
        window_end=at,
    )


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


def _escalate_at(severity: str, policy: AlertPolicy, now: datetime) -> datetime | None:
    """When an unacknowledged critical raised (or re-fired, escalated) at ``now`` is paged
    again; never for a warning."""
    if severity != "critical" or policy.escalate_after is None:
        return None
    return now + policy.escalate_after


def _seconds(interval: timedelta | None) -> int | None:
    return int(interval.total_seconds()) if interval else None
