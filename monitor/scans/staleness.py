"""Staleness judged in proportion to what can change, not to the number of models.

A model's ``stale`` verdict (:func:`monitor.scans.signals.signal_stale`) depends on the
clock and its latest successful window end only. While its data is fresh, its ``stale``
condition ok and no open ``stale`` alert could move, judging it changes nothing the alerts
show (it would only re-count an ok observation), and it cannot go stale before a time known
from its latest window end. So a tick reads every model it must look at in three statements
(recent window ends, ``stale`` conditions, open ``stale`` alerts), runs the full judgement
only for the models whose verdict can change now (stale, recovering, never judged), and
:class:`Staleness` keeps the others' next-check time in memory until a scan of the model
(or a reload) makes it read them again. A scan only moves the latest window end later, so
a next-check time is never late: at worst the model is read once more and left alone.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.config.schema import Config, ModelConfig
from monitor.scans.signals import STALE_AFTER_STEPS, signal_stale
from monitor.store import OPEN_STATES, WHOLE_WINDOW, Alert, AlertCondition, Scan
from monitor.windows import Every, next_end, step, to_utc


@dataclass(frozen=True)
class Seen:
    """What one read tells about a model's staleness."""

    last_ok: datetime | None  # the latest successful window end, when it is recent
    condition: str | None  # the ``stale`` condition's state; None: never judged
    alert_may_move: bool  # an open ``stale`` alert a judgement could still change


class Staleness:
    """The next time each quiet model's ``stale`` verdict may change, kept across ticks by a
    long-running service (``monitor run``); a fresh one reads every model (``monitor scan``).
    Scans and ticks run in different threads, hence the lock."""

    def __init__(self) -> None:
        self._next: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def forget(self, name: str) -> None:
        """Model ``name`` was scanned (or handed over): read it again at the next tick."""
        with self._lock:
            self._next.pop(name, None)

    def due(self, models: Sequence[ModelConfig], now: datetime) -> list[ModelConfig]:
        with self._lock:
            return [m for m in models if self._next.get(m.name, now) <= now]

    def judge(
        self, *, config: Config, session: Session, models: Sequence[ModelConfig], now: datetime
    ) -> int:
        """Judge the staleness of those of ``models`` whose verdict may have changed by
        ``now``; never commits. Returns how many went through the full judgement."""
        due = self.due(models, now)
        if not due:
            return 0
        gaps = {m.name: step(m.grid, now) for m in due}  # a cron grid's: about 0.5 ms each
        oldest = now - STALE_AFTER_STEPS * max(gaps.values())
        seen = read(session, list(gaps), since=oldest)
        judged = 0
        for model in due:
            quiet_until = _quiet_until(model, seen[model.name], gaps[model.name], now)
            with self._lock:
                if quiet_until is None:
                    self._next.pop(model.name, None)
                else:
                    self._next[model.name] = quiet_until
            if quiet_until is None:
                signal_stale(session=session, model=model, config=config, now=now)
                judged += 1
        return judged


def read(session: Session, names: Sequence[str], *, since: datetime) -> dict[str, Seen]:
    """Three statements whatever the number of models. Only window ends from ``since`` on
    are read (a few rows per model on the (model, window_end) key): ``since`` is old enough
    that an older one leaves its model stale, and the full judgement reads that exactly."""
    last_ok = dict(
        session.execute(
            select(Scan.model, func.max(Scan.window_end))
            .where(Scan.model.in_(names), Scan.window_end >= since, Scan.status != "error")
            .group_by(Scan.model)
        ).all()
    )
    conditions = dict(
        session.execute(
            select(AlertCondition.model, AlertCondition.state).where(
                AlertCondition.model.in_(names),
                AlertCondition.check_id == "stale",
                AlertCondition.segment == WHOLE_WINDOW,
            )
        ).all()
    )
    open_alerts = session.execute(
        select(Alert.model, Alert.state, Alert.condition, Alert.flapping_since).where(
            Alert.model.in_(names), Alert.check_id == "stale", Alert.state.in_(OPEN_STATES)
        )
    ).all()
    # A recovered alert whose condition is ok and that is not flapping stays as it is until
    # a person acts; any other open one moves with the next judgement (or its flapping calms).
    moving = {
        model
        for model, state, condition, flapping in open_alerts
        if not (state == "recovered" and condition == "ok" and flapping is None)
    }
    return {
        name: Seen(
            last_ok=to_utc(last_ok[name]) if name in last_ok else None,
            condition=conditions.get(name),
            alert_may_move=name in moving,
        )
        for name in names
    }


def _quiet_until(model: ModelConfig, seen: Seen, gap: timedelta, now: datetime) -> datetime | None:
    """Until when judging ``model`` cannot change anything; None: judge it now. ``gap``: the
    step of its schedule at ``now``."""
    if seen.last_ok is None or seen.condition != "ok" or seen.alert_may_move:
        return None
    stale_from = seen.last_ok + STALE_AFTER_STEPS * gap
    if now > stale_from:
        return None
    if isinstance(model.grid, Every):
        return stale_from
    # A cron grid's step (and so the allowed gap) may change at its next window end.
    return min(stale_from, next_end(model.grid, now))
