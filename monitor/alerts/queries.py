"""Read side: listing alerts, one alert with its history, per-model counts for the status report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, tuple_

from monitor.alerts.errors import AlertNotFoundError, InvalidActionError
from monitor.store import ALL_STATES, MAX_ID, OPEN_STATES, WHOLE_WINDOW, tables
from monitor.store.rows import AlertEventRow, AlertRow, Reader, SilenceRow, cancelled_at, holds_at
from monitor.windows import isoformat_z

if TYPE_CHECKING:
    # The JSON shapes load where one is built: `monitor alerts` (a table) and `monitor ack`
    # print none, and importing the ~40 pydantic models costs them 10-15 ms.
    from monitor import views

# The Core columns, under the names of the mapped classes whose tables they are: these reads
# run on a Core connection (the read-only commands) as well as on a session, and return rows.
Alert = tables.alert.c
AlertEvent = tables.alert_event.c
Notification = tables.notification.c
Scan = tables.scan.c

STATE_FILTERS = (*ALL_STATES, "open", "all")


def list_alerts(
    *,
    session: Reader,
    state: str = "open",
    model: str | None = None,
    check_id: str | None = None,
    segment: str | None = None,
    since: datetime | None = None,
    limit: int = 500,
) -> list[AlertRow]:
    """Alerts in ``state`` (firing, recovered, acknowledged, resolved, open, all), newest first.

    ``segment``: "" is the whole window, a value also finds the alerts listing it among their
    failing segments; ``since``: raised at or after (data time).
    """
    query = select(tables.alert).order_by(Alert.id.desc()).limit(limit)
    if check_id is not None:
        query = query.where(Alert.check_id == check_id)
    if segment:
        query = query.where(Alert.segment.in_([segment, WHOLE_WINDOW]))
    elif segment is not None:
        query = query.where(Alert.segment == segment)
    if since is not None:
        query = query.where(Alert.raised_at >= since)
    if state == "open":
        query = query.where(Alert.state.in_(OPEN_STATES))
    elif state in ALL_STATES:
        query = query.where(Alert.state == state)
    elif state != "all":
        raise InvalidActionError(
            f"unknown alert state {state!r}; use one of {', '.join(STATE_FILTERS)}"
        )
    if model is not None:
        query = query.where(Alert.model == model)
    rows: list[AlertRow] = list(session.execute(query))
    if segment:
        rows = [a for a in rows if a.segment == segment or _lists(a, segment)]
    return rows


def _lists(alert: AlertRow, segment: str) -> bool:
    return any(s["segment"] == segment for s in alert.segments or ())


def seen_models(*, session: Reader) -> set[str]:
    """The models the state DB has alerts or scans of (also ones no longer configured)."""
    alerted = select(Alert.model).distinct()
    scanned = select(Scan.model).distinct()
    return set(session.scalars(alerted)) | set(session.scalars(scanned))


def get_alert(*, session: Reader, alert_id: int) -> AlertRow:
    if not 1 <= alert_id <= MAX_ID:
        raise AlertNotFoundError(alert_id)
    alert: AlertRow | None = session.execute(
        select(tables.alert).where(Alert.id == alert_id)
    ).one_or_none()
    if alert is None:
        raise AlertNotFoundError(alert_id)
    return alert


def alert_events(*, session: Reader, alert_id: int) -> list[AlertEventRow]:
    query = select(tables.alert_event).where(AlertEvent.alert_id == alert_id)
    return list(session.execute(query.order_by(AlertEvent.id)))


@dataclass(frozen=True)
class AlertCounts:
    """The ``alerts`` part of a model's status report."""

    open: int
    unacknowledged: int
    oldest_unacknowledged_since: datetime | None
    worst_unacknowledged: str | None  # severity, for sticky_health
    resolutions: tuple[views.CheckResolutions, ...] = ()

    def as_json(self) -> views.AlertCounts:
        from monitor import views

        since = self.oldest_unacknowledged_since
        return views.AlertCounts(
            open=self.open,
            unacknowledged=self.unacknowledged,
            oldest_unacknowledged_since=_iso(since),
            resolutions=list(self.resolutions),
        )


def alert_counts(*, session: Reader, model: str) -> AlertCounts:
    """Open and unacknowledged (firing or recovered) alerts of ``model``."""
    alerts = list_alerts(session=session, state="open", model=model)
    return count_alerts(alerts, resolutions(session=session, model=model))


def count_alerts(
    alerts: Sequence[AlertRow], resolved: tuple[views.CheckResolutions, ...] = ()
) -> AlertCounts:
    """The counts of a model's open ``alerts`` (newest first), with its ``resolved`` tally."""
    unacked = [a for a in alerts if a.state in ("firing", "recovered")]
    oldest = min((a.raised_at for a in unacked), default=None)
    worst = None
    if unacked:
        worst = "critical" if any(a.severity == "critical" for a in unacked) else "warning"
    return AlertCounts(len(alerts), len(unacked), oldest, worst, resolved)


RESOLUTIONS_COUNTED = 5


def resolutions(*, session: Reader, model: str) -> tuple[views.CheckResolutions, ...]:
    """Per check, how its last resolved alerts (at most 5) were judged by whoever resolved
    them; only checks with at least one judged alert, by check id."""
    return resolutions_by_model(session=session, models=[model]).get(model, ())


def resolutions_by_model(
    *, session: Reader, models: Sequence[str]
) -> dict[str, tuple[views.CheckResolutions, ...]]:
    """:func:`resolutions` of each of ``models``, in one query.

    Only the checks with a judged alert at all are ranked: the others' tallies would be all
    unjudged, and dropped. Most resolved alerts are nobody's verdict (a check that recovered),
    and a year of them cost the ranking a sort of every one (10 ms of `monitor status` on
    PostgreSQL, 25 ms on SQLite)."""
    resolved = (Alert.model.in_(models), Alert.state == "resolved")
    judged = select(Alert.model, Alert.check_id).where(*resolved, Alert.resolution.is_not(None))
    latest = (
        select(
            Alert.model,
            Alert.check_id,
            Alert.resolution,
            func.row_number()
            .over(partition_by=(Alert.model, Alert.check_id), order_by=Alert.id.desc())
            .label("nth"),
        )
        .where(*resolved, tuple_(Alert.model, Alert.check_id).in_(judged))
        .subquery()
    )
    query = select(latest.c.model, latest.c.check_id, latest.c.resolution).where(
        latest.c.nth <= RESOLUTIONS_COUNTED
    )
    last: dict[str, dict[str, list[str | None]]] = {}
    for model, check_id, resolution in session.execute(query):
        last.setdefault(model, {}).setdefault(check_id, []).append(resolution)
    return {model: _tally(checks) for model, checks in last.items()}


def _tally(checks: dict[str, list[str | None]]) -> tuple[views.CheckResolutions, ...]:
    from monitor import views

    return tuple(
        views.CheckResolutions(
            check_id=check_id,
            last=len(seen),
            fixed=seen.count("fixed"),
            expected=seen.count("expected"),
            false_positive=seen.count("false_positive"),
        )
        for check_id, seen in sorted(checks.items())
        if any(seen)
    )


def alert_json(alert: AlertRow) -> views.Alert:
    """The JSON shape of an alert (CLI ``--json`` and the HTTP API)."""
    from monitor import views

    return views.Alert(
        id=alert.id,
        model=alert.model,
        check_id=alert.check_id,
        segment=alert.segment or None,
        state=alert.state,
        severity=alert.severity,
        condition=alert.condition,
        occurrences=alert.occurrences,
        value=alert.value,
        threshold=alert.threshold,
        summary=alert.summary,
        segments=[views.FailingSegment(**s) for s in alert.segments or ()],
        runbook=alert.runbook,
        raised_at=_stamp(alert.raised_at),
        recorded_at=_iso(alert.recorded_at),
        last_breach_at=_iso(alert.last_breach_at),
        recovered_at=_iso(alert.recovered_at),
        acked_at=_iso(alert.acked_at),
        acked_by=alert.acked_by,
        ack_note=alert.ack_note,
        snoozed_until=_iso(alert.snoozed_until),
        resolved_at=_iso(alert.resolved_at),
        resolved_by=alert.resolved_by,
        resolve_reason=alert.resolve_reason,
        resolution=alert.resolution,
        next_reminder_at=_iso(alert.next_reminder_at),
        flapping_since=_iso(alert.flapping_since),
        slack=views.SlackMessage(channel=alert.slack_channel, ts=alert.slack_ts),
        version=alert.version,
    )


def alert_detail(*, session: Reader, alert_id: int) -> views.AlertDetail:
    """One alert with its whole event history, oldest first (CLI ``alerts show`` and the API)."""
    return detail_of(session=session, alert=get_alert(session=session, alert_id=alert_id))


def detail_of(*, session: Reader, alert: AlertRow) -> views.AlertDetail:
    """:func:`alert_detail` of an alert row already read."""
    from monitor import views

    events = alert_events(session=session, alert_id=alert.id)
    return views.AlertDetail(
        **dict(alert_json(alert)),
        events=[event_json(e) for e in events],
        retraining_requested_at=_iso(retraining_requested_at(session=session, alert_id=alert.id)),
    )


def retraining_requested_at(*, session: Reader, alert_id: int) -> datetime | None:
    """When a webhook destination first accepted a notification of the alert: a sent row of
    a ``webhook:`` channel whose call went out (a webhook answers an event it was not asked
    for with an empty reference, see :mod:`monitor.notifiers.webhook`)."""
    query = select(func.min(Notification.sent_at)).where(
        Notification.alert_id == alert_id,
        Notification.channel.startswith("webhook:"),
        Notification.status == "sent",
        Notification.slack_ts.is_not(None),
        Notification.slack_ts != "",
    )
    first: datetime | None = session.scalar(query)
    return first


def event_json(event: AlertEventRow) -> views.AlertEvent:
    from monitor import views

    return views.AlertEvent(
        at=_stamp(event.at),
        recorded_at=_iso(event.recorded_at),
        kind=event.kind,
        from_state=event.from_state,
        to_state=event.to_state,
        severity=event.severity,
        actor=event.actor,
        reason=event.reason,
        note=event.note,
        window_end=_iso(event.window_end),
        details=event.details,
    )


def maintenance_json(window: SilenceRow, *, now: datetime) -> views.Maintenance:
    from monitor import views

    return views.Maintenance(
        id=window.id,
        model=window.model,
        starts_at=isoformat_z(window.starts_at),
        ends_at=isoformat_z(window.ends_at),
        created_by=window.created_by,
        reason=window.reason,
        cancelled_by=window.cancelled_by,
        cancelled_at=isoformat_z(cancelled) if (cancelled := cancelled_at(window)) else None,
        active=holds_at(window, now),
    )


def _iso(moment: datetime | None) -> str | None:
    return _stamp(moment) if moment else None


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
