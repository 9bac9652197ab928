"""Flapping: a check that keeps changing between bad and ok posts one notice, not every flip.

Nagios is the anchor: it counts a service's state changes over its recent checks, marks it
flapping above a threshold (with a lower one to leave, so it does not flap in and out), sends
one "flapping started" and one "flapping stopped" notification and suppresses the rest in
between. Alertmanager has no flap state (``for`` / ``keep_firing_for`` only debounce, as our
``raise_after`` / ``clear_after`` do) and PagerDuty groups or pauses transient alerts; both
answer the same complaint, a channel flooded by one unstable check.

Here a *flip* is a change of the check's condition between bad and ok: an alert raised,
re-fired, recovered, or resolved by the scan after an acknowledgement (events ``raised``,
``refired``, ``recovered``, and ``resolved`` by ``scan``), counted over every alert of the
same (model, check, segment) in data time. ``flap_threshold`` flips within ``flap_window``
mark the alert flapping (``flapping_since``): one thread reply says so, and further flips
are recorded as events but neither posted nor edited into the message. With no flip for
``flap_quiet`` the alert leaves that state: one thread reply with its current state; the
count then starts again from zero.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from monitor.alerts.policy import AlertPolicy
from monitor.store import Alert, AlertEvent

FLIP_KINDS = ("raised", "refired", "recovered")
# What flapping mutes: the firing <-> recovered flip-flop of one open alert. Escalations,
# acknowledgements and resolves are still posted.
MUTED = ("refired", "recovered")
# A scan-driven resolve (the condition cleared under an acknowledgement) is a flip too.
_SCAN_RESOLVE = ("resolved", "scan")


def is_flip(kind: str) -> bool:
    return kind in FLIP_KINDS or kind == _SCAN_RESOLVE[0]


def starts_flapping(
    session: Session, alert: Alert, kind: str, policy: AlertPolicy, at: datetime
) -> int:
    """The flips within ``flap_window`` if the flip ``kind`` at ``at`` makes ``alert``
    flapping (it is not yet), else 0."""
    if not policy.flap_threshold or alert.flapping_since is not None or kind not in MUTED:
        return 0
    # Flips before the end of the last flapping period do not count again: leaving it after
    # a quiet period restarts the count (else the next flip would flap again at once).
    ended = session.scalar(
        select(func.max(AlertEvent.at))
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(*_same_key(alert), AlertEvent.kind == "flapping_ended")
    )
    since = at - policy.flap_window
    flips = _flips(session, alert, since=max(since, ended) if ended else since) + 1
    return flips if flips >= policy.flap_threshold else 0


def new_alert_flapping(
    session: Session, model: str, check_id: str, segment: str, policy: AlertPolicy, at: datetime
) -> bool:
    """Whether a new alert of this key, raised at ``at``, starts out flapping."""
    if not policy.flap_threshold:
        return False
    earlier = session.scalar(
        select(func.count(AlertEvent.id))
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(
            Alert.model == model,
            Alert.check_id == check_id,
            Alert.segment == segment,
            AlertEvent.at > at - policy.flap_window,
            _flip_event(),
        )
    )
    return int(earlier or 0) + 1 >= policy.flap_threshold


def calmed(session: Session, alert: Alert, policy: AlertPolicy, at: datetime) -> bool:
    """Whether a flapping ``alert`` has had no flip for ``flap_quiet`` by ``at``."""
    if alert.flapping_since is None:
        return False
    last = session.scalar(
        select(func.max(AlertEvent.at))
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(*_same_key(alert), _flip_event())
    )
    last = max(last, alert.flapping_since) if last else alert.flapping_since
    return at - last >= policy.flap_quiet


def _flips(session: Session, alert: Alert, *, since: datetime) -> int:
    count = session.scalar(
        select(func.count(AlertEvent.id))
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(*_same_key(alert), AlertEvent.at > since, _flip_event())
    )
    return int(count or 0)


def _same_key(alert: Alert) -> tuple[ColumnElement[bool], ...]:
    return (
        Alert.model == alert.model,
        Alert.check_id == alert.check_id,
        Alert.segment == alert.segment,
    )


def _flip_event() -> ColumnElement[bool]:
    kind, actor = _SCAN_RESOLVE
    return or_(
        AlertEvent.kind.in_(FLIP_KINDS), and_(AlertEvent.kind == kind, AlertEvent.actor == actor)
    )
