"""Human actions on alerts: acknowledge, unacknowledge, snooze, resolve, silence a model.

Keyword-only service functions taking the session; they never commit. Each one is a
compare-and-set on the alert's version: when two people act at once, one wins and the other
gets :class:`AlertConflictError` saying who won and when. The statements are Core: the session
is an ORM session (the API, the Slack buttons) or a plain connection (``monitor ack``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from monitor.alerts.errors import AlertConflictError, AlertStateError, InvalidActionError
from monitor.alerts.notify import ThreadEvent
from monitor.alerts.outbox import enqueue
from monitor.alerts.policy import MAX_SNOOZE
from monitor.alerts.store import Transition, cas, read, record
from monitor.store import OPEN_STATES, tables

if TYPE_CHECKING:
    from sqlalchemy import Row

    from monitor.store.rows import AlertRow, Reader

# (kind, column changes, thread event) for a valid action; raising AlertStateError otherwise.
Plan = tuple[str, dict[str, Any], ThreadEvent]
Planner = Callable[["AlertRow"], Plan]


def acknowledge(
    *, session: Reader, alert_id: int, by: str, now: datetime, note: str | None = None
) -> Transition:
    """Firing -> acknowledged (reminders stop); recovered -> resolved."""

    def plan(alert: AlertRow) -> Plan:
        if alert.state == "firing":
            timeout = alert.ack_timeout_s
            changes = {
                "state": "acknowledged",
                "acked_at": now,
                "acked_by": by,
                "ack_note": note,
                "next_reminder_at": None,
                "escalate_at": None,
                "ack_expires_at": now + timedelta(seconds=timeout) if timeout else None,
            }
            return "acknowledged", changes, ThreadEvent("acknowledged", {"by": by, "note": note})
        if alert.state == "recovered":
            changes = {
                "state": "resolved",
                "acked_at": now,
                "acked_by": by,
                "ack_note": note,
                **_resolved(now, by, "acked_after_recovery"),
            }
            return "resolved", changes, ThreadEvent("acknowledged_resolved", {"by": by})
        raise AlertStateError(alert.id, _already(alert))

    return _act(session, alert_id, by, now, plan, note=note)


def unacknowledge(*, session: Reader, alert_id: int, by: str, now: datetime) -> Transition:
    """Acknowledged -> firing (reminders restart), or recovered if the condition is ok."""

    def plan(alert: AlertRow) -> Plan:
        if alert.state != "acknowledged":
            raise AlertStateError(alert.id, f"is {alert.state}, not acknowledged")
        state = "recovered" if alert.condition == "ok" else "firing"
        interval = timedelta(seconds=alert.remind_every_s) if alert.remind_every_s else None
        changes = {
            "state": state,
            "acked_at": None,
            "acked_by": None,
            "ack_note": None,
            "ack_expires_at": None,
            "next_reminder_at": now + interval if interval and state == "firing" else None,
            "recovered_at": now if state == "recovered" else alert.recovered_at,
        }
        return "unacknowledged", changes, ThreadEvent("unacknowledged", {"by": by})

    return _act(session, alert_id, by, now, plan)


def snooze(
    *, session: Reader, alert_id: int, by: str, now: datetime, duration: timedelta
) -> Transition:
    """Mute this alert's pings until ``now + duration`` (at most 7 days); edits continue."""
    if duration <= timedelta(0) or duration > MAX_SNOOZE:
        raise InvalidActionError(f"alert {alert_id}: snooze must be > 0 and at most 7 days")
    until = now + duration

    def plan(alert: AlertRow) -> Plan:
        if alert.state not in OPEN_STATES:
            raise AlertStateError(alert.id, _already(alert))
        changes = {"snoozed_until": until, "snoozed_by": by}
        event = ThreadEvent("snoozed", {"by": by, "until": until.isoformat()})
        return "snoozed", changes, event

    return _act(session, alert_id, by, now, plan, reason=f"until {until.isoformat()}")


RESOLUTIONS = ("fixed", "expected", "false_positive")


def resolve(
    *,
    session: Reader,
    alert_id: int,
    by: str,
    now: datetime,
    note: str | None = None,
    resolution: str | None = None,
) -> Transition:
    """Close an open alert by hand. If the check still fails, the next scan opens a new one.

    ``resolution``: what it was (``fixed``, ``expected``, ``false_positive``); ``note``: free text.
    """
    if resolution is not None and resolution not in RESOLUTIONS:
        raise InvalidActionError(
            f"alert {alert_id}: unknown resolution {resolution!r}; use one of "
            f"{', '.join(RESOLUTIONS)}"
        )

    def plan(alert: AlertRow) -> Plan:
        if alert.state not in OPEN_STATES:
            raise AlertStateError(alert.id, _already(alert))
        changes = {**_resolved(now, by, "manual"), "resolution": resolution}
        data: dict[str, object] = {"by": by, "note": note}
        if resolution:
            data["resolution"] = resolution
        return "resolved", changes, ThreadEvent("resolved", data)

    return _act(session, alert_id, by, now, plan, note=note, reason=resolution or "manual")


def resolve_removed_checks(
    *, session: Reader, configured: Mapping[str, set[str]], now: datetime
) -> list[Transition]:
    """Resolve open alerts whose model or check left the config (reason ``check_removed``).

    ``configured`` maps each configured model to its check ids; ``stale`` and ``scan_error``
    exist for every configured model. Their conditions are dropped too, so a check that comes
    back starts from a clean debounce.
    """
    transitions = []
    alerts = tables.alert.c
    open_alerts = select(alerts.id, alerts.model, alerts.check_id).where(
        alerts.state.in_(OPEN_STATES)
    )
    for alert in session.execute(open_alerts.order_by(alerts.id)).all():
        if _still_configured(configured, alert.model, alert.check_id):
            continue

        def plan(alert: AlertRow) -> Plan:
            changes = _resolved(now, "config", "check_removed")
            return "resolved", changes, ThreadEvent("check_removed")

        transitions.append(_act(session, alert.id, "config", now, plan, reason="check_removed"))
    conditions = tables.alert_condition.c
    removed = [
        condition.id
        for condition in session.execute(
            select(conditions.id, conditions.model, conditions.check_id)
        )
        if not _still_configured(configured, condition.model, condition.check_id)
    ]
    if removed:
        session.execute(delete(tables.alert_condition).where(conditions.id.in_(removed)))
    return transitions


def silence_model(
    *, session: Reader, model: str, by: str, now: datetime, duration: timedelta, reason: str
) -> Row[Any]:
    """Mute a model: its alerts still open and are stored, nothing is posted until the end.
    Returns the silence's row."""
    if duration <= timedelta(0):
        raise InvalidActionError(f"model {model!r}: a silence needs a positive duration")
    values = {
        "model": model,
        "starts_at": now,
        "ends_at": now + duration,
        "created_by": by,
        "reason": reason,
    }
    made = insert(tables.silence).values(**values).returning(*tables.silence.c)
    return session.execute(made).one()


def _act(
    session: Reader,
    alert_id: int,
    by: str,
    now: datetime,
    plan: Planner,
    *,
    note: str | None = None,
    reason: str = "",
) -> Transition:
    if not by.strip():
        raise InvalidActionError(f"alert {alert_id}: the actor (--by) must not be empty")
    alert = read(session, alert_id)
    kind, changes, event = plan(alert)
    from_state = alert.state
    if not cas(session, alert, changes):
        alert = read(session, alert_id)
        if alert.state != from_state:
            # The person decided on the state they saw; a different one (e.g. re-fired under
            # an ack of a recovered alert) is theirs to look at again, not ours to guess.
            raise AlertConflictError(alert_id, _changed(alert, from_state))
        try:
            kind, changes, event = plan(alert)
        except AlertStateError as exc:
            raise AlertConflictError(alert_id, _already(alert)) from exc
        if not cas(session, alert, changes):
            raise AlertConflictError(alert_id, "changed concurrently, try again")
    enqueue(session, alert, "update", now=now)
    enqueue(session, alert, "reply", now=now, event=event.kind, data=event.data)
    return record(
        session,
        alert,
        kind=kind,
        from_state=from_state,
        actor=by,
        now=now,
        reason=reason or kind,
        note=note,
    )


def _resolved(now: datetime, by: str, reason: str) -> dict[str, Any]:
    return {
        "state": "resolved",
        "resolved_at": now,
        "resolved_by": by,
        "resolve_reason": reason,
        "next_reminder_at": None,
        "snoozed_until": None,
        "escalate_at": None,
        "ack_expires_at": None,
    }


def _already(alert: AlertRow) -> str:
    if alert.state == "acknowledged":
        return f"already acknowledged by {alert.acked_by} at {_when(alert.acked_at)}"
    if alert.state == "resolved":
        why = f" ({alert.resolve_reason})" if alert.resolve_reason else ""
        return f"already resolved by {alert.resolved_by}{why} at {_when(alert.resolved_at)}"
    return f"is {alert.state}"


def _changed(alert: AlertRow, seen: str) -> str:
    if alert.state in ("acknowledged", "resolved"):
        return _already(alert)
    if alert.state == "firing" and seen == "recovered":
        what = f"re-fired (occurrence {alert.occurrences}) at {_when(alert.last_breach_at)}"
    else:
        what = f"became {alert.state}"
    return f"{what} while you acted on it as {seen}; nothing was changed, look again"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "an unknown time"


def _still_configured(configured: Mapping[str, set[str]], model: str, check_id: str) -> bool:
    if model not in configured:
        return False
    return check_id in ("stale", "scan_error") or check_id in configured[model]


ACTION_NAMES = ("ack", "unack", "snooze", "resolve")


def apply_action(
    *,
    session: Reader,
    action: str,
    alert_id: int,
    by: str,
    now: datetime,
    note: str | None = None,
    duration: timedelta | None = None,
    resolution: str | None = None,
) -> Transition:
    """One entry point for the CLI, the HTTP API and the Slack buttons."""
    if action == "ack":
        return acknowledge(session=session, alert_id=alert_id, by=by, now=now, note=note)
    if action == "unack":
        return unacknowledge(session=session, alert_id=alert_id, by=by, now=now)
    if action == "resolve":
        return resolve(
            session=session,
            alert_id=alert_id,
            by=by,
            now=now,
            note=note,
            resolution=resolution,
        )
    if action == "snooze":
        if duration is None:
            raise InvalidActionError(f"alert {alert_id}: snooze needs a duration (for), e.g. 4h")
        return snooze(session=session, alert_id=alert_id, by=by, now=now, duration=duration)
    raise InvalidActionError(f"unknown action {action!r}; use one of {', '.join(ACTION_NAMES)}")
