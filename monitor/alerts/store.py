"""Shared write path of every transition: compare-and-set on the alert, its event row.

Every change to an alert goes through :func:`cas`, an ``UPDATE ... WHERE version = v``: of two
concurrent writers exactly one wins; the other reloads and decides again on the new state.

The statements are Core, on the tables of :mod:`monitor.store.tables`, so they run on an ORM
session (the scans, ``tick``, the API) and on a plain connection (``monitor ack``, which then
needs no ORM) alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from monitor.alerts.errors import AlertNotFoundError
from monitor.store import tables
from monitor.store.rows import AlertCopy, alert_copy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.store import Alert
    from monitor.store.rows import AlertRow, Reader


@dataclass(frozen=True)
class Transition:
    """What happened to an alert; returned to callers (scan output, CLI, API)."""

    alert_id: int
    model: str
    check_id: str
    segment: str
    kind: str
    from_state: str | None
    to_state: str
    severity: str
    actor: str
    reason: str = ""

    def describe(self) -> str:
        where = f"{self.model} {self.check_id}" + (f" [{self.segment}]" if self.segment else "")
        arrow = f"{self.from_state or '-'} -> {self.to_state}"
        return f"alert {self.alert_id} {where}: {self.kind} ({arrow}, {self.severity})"


# Alert ids are 32-bit INTEGER keys; a larger id is "not found", never a database error.
MAX_ALERT_ID = 2**31 - 1


def load(session: Session, alert_id: int) -> Alert:
    """The alert as committed now (refreshing any stale copy in the session)."""
    from monitor.store import Alert  # the mapped class: its callers hold an ORM session

    if not 1 <= alert_id <= MAX_ALERT_ID:
        raise AlertNotFoundError(alert_id)
    alert = session.scalars(
        select(Alert).where(Alert.id == alert_id).execution_options(populate_existing=True)
    ).one_or_none()
    if alert is None:
        raise AlertNotFoundError(alert_id)
    return alert


def read(bind: Reader, alert_id: int) -> AlertRow:
    """The alert's columns as committed now, as a detached :class:`AlertCopy`."""
    if not 1 <= alert_id <= MAX_ALERT_ID:
        raise AlertNotFoundError(alert_id)
    row = bind.execute(select(tables.alert).where(tables.alert.c.id == alert_id)).one_or_none()
    if row is None:
        raise AlertNotFoundError(alert_id)
    return alert_copy(row._mapping)


def cas(session: Reader, alert: AlertRow, changes: dict[str, Any]) -> bool:
    """Apply ``changes`` if nobody changed the alert since it was read; bump its version.

    ``alert`` (a mapped ``Alert`` or an :class:`AlertCopy`) then holds the new values."""
    version = alert.version
    table = tables.alert
    result = session.execute(
        update(table)
        .where(table.c.id == alert.id, table.c.version == version)
        .values(**changes, version=version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _committed(alert, {**changes, "version": version + 1})
    return True


def _committed(alert: AlertRow, values: dict[str, Any]) -> None:
    """Set ``values`` on ``alert`` as its committed state: a mapped object must not see them
    as pending changes (its session would write them again)."""
    if isinstance(alert, AlertCopy):
        alert.__dict__.update(values)
        return
    # a mapped object: its session, hence the ORM, is loaded already
    from sqlalchemy.orm.attributes import set_committed_value

    for key, value in values.items():
        set_committed_value(alert, key, value)


def record(
    session: Reader,
    alert: AlertRow,
    *,
    kind: str,
    from_state: str | None,
    actor: str,
    now: datetime,
    at: datetime | None = None,
    reason: str = "",
    note: str | None = None,
    window_end: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> Transition:
    """Append the event row for a transition that has just been applied to ``alert``.

    ``at``: when it happened in data time (a scan's window end); default ``now``, the wall
    clock, which is kept as ``recorded_at`` either way.
    """
    session.execute(
        insert(tables.alert_event).values(
            alert_id=alert.id,
            at=at or now,
            recorded_at=now,
            kind=kind,
            from_state=from_state,
            to_state=alert.state,
            severity=alert.severity,
            actor=actor,
            reason=reason,
            note=note,
            window_end=window_end,
            details=details or {},
        )
    )
    return Transition(
        alert_id=alert.id,
        model=alert.model,
        check_id=alert.check_id,
        segment=alert.segment,
        kind=kind,
        from_state=from_state,
        to_state=alert.state,
        severity=alert.severity,
        actor=actor,
        reason=reason,
    )
