"""Backfills don't page: a backfill's notifications are held, then one per alert at its end.

``monitor scan --from/--to`` and a long catch-up (``run.backfill_after``) judge every window,
so alert states, events and data times are those of a per-window run, but their outbox rows
are written ``held`` (:func:`monitor.alerts.outbox.enqueue`). At the end,
:func:`release_held` drops the held rows of each alert and queues what its final state needs:

* not posted yet and still firing or acknowledged: one parent message (its current state);
* not posted yet and recovered: nothing is posted; the alert, which opened and closed inside
  the backfill, is resolved (``recovered_in_backfill``) and stays in the history;
* not posted yet and resolved: nothing;
* posted before the backfill: one edit and one quiet thread reply with the final state.

The held rows are rows, not process memory: a backfill stopped half-way leaves them, and the
next release for that model (the end of the next backfill, or the model's next regular scan)
settles them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.alerts.outbox import HELD, enqueue
from monitor.alerts.policy import AlertPolicy, Routing
from monitor.alerts.store import Transition, cas, load, record
from monitor.store import Alert, AlertEvent, Notification

BACKFILL_ACTOR = "backfill"


def release_held(
    *, session: Session, model: str, policy: AlertPolicy, routing: Routing, now: datetime
) -> list[Transition]:
    """Replace the held notifications of ``model``'s alerts by one each; never commits."""
    done = []
    for alert_id in _held_alerts(session, model):
        held = _drop_held(session, alert_id)
        alert = load(session, alert_id)
        if alert.slack_ts is not None or _post_pending(session, alert_id):
            _summarise(session, alert, held, now)
        elif alert.state in ("firing", "acknowledged"):
            _post(session, alert, policy, routing, now)
        elif alert.state == "recovered":
            transition = _resolve_unseen(session, alert, now)
            if transition is not None:
                done.append(transition)
    return done


def _held_alerts(session: Session, model: str) -> list[int]:
    query = (
        select(Notification.alert_id)
        .join(Alert, Alert.id == Notification.alert_id)
        .where(Notification.status == HELD, Alert.model == model)
        .distinct()
    )
    return sorted(session.scalars(query))


def _drop_held(session: Session, alert_id: int) -> list[Notification]:
    rows = list(
        session.scalars(
            select(Notification)
            .where(Notification.alert_id == alert_id, Notification.status == HELD)
            .order_by(Notification.id)
        )
    )
    session.execute(
        update(Notification)
        .where(Notification.id.in_([r.id for r in rows]))
        .values(status="dropped", last_error="held during a backfill: summarised at its end")
        .execution_options(synchronize_session=False)
    )
    return rows


def _post_pending(session: Session, alert_id: int) -> bool:
    """A parent queued before the backfill and not sent yet renders the final state anyway."""
    query = select(Notification.id).where(
        Notification.alert_id == alert_id,
        Notification.kind == "post",
        Notification.status == "pending",
    )
    return session.scalars(query.limit(1)).first() is not None


def _post(
    session: Session, alert: Alert, policy: AlertPolicy, routing: Routing, now: datetime
) -> None:
    channel = routing.channel_for(severity=alert.severity, model_channel=policy.channel)
    mention = routing.mention_for(alert.severity)
    enqueue(session, alert, "post", now=now, channel=channel, data={"mention": mention or ""})


def _summarise(session: Session, alert: Alert, held: Sequence[Notification], now: datetime) -> None:
    # The transitions the scans recorded since the first held row (muted flips included).
    since = min(r.created_at for r in held)
    changes = session.scalar(
        select(func.count(AlertEvent.id)).where(
            AlertEvent.alert_id == alert.id,
            AlertEvent.actor == "scan",
            AlertEvent.recorded_at >= since,
            AlertEvent.kind.not_in(("flapping", "flapping_ended")),
        )
    )
    data = {
        "state": alert.state,
        "severity": alert.severity,
        "summary": alert.summary or alert.check_id,
        "changes": int(changes or 0),
    }
    enqueue(session, alert, "update", now=now)
    enqueue(session, alert, "reply", now=now, event="backfilled", data=data)


def _resolve_unseen(session: Session, alert: Alert, now: datetime) -> Transition | None:
    """An alert that fired and recovered inside the backfill: history, not a page."""
    changes = {
        "state": "resolved",
        "resolved_at": alert.recovered_at or now,
        "resolved_by": BACKFILL_ACTOR,
        "resolve_reason": "recovered_in_backfill",
        "next_reminder_at": None,
        "escalate_at": None,
    }
    if not cas(session, alert, changes):
        return None  # someone acted on it meanwhile: theirs to decide
    return record(
        session,
        alert,
        kind="resolved",
        from_state="recovered",
        actor=BACKFILL_ACTOR,
        now=now,
        at=alert.recovered_at,
        reason="recovered_in_backfill",
    )
