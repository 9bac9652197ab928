"""The units of work of ``monitor run``: claim shards, scan a model's due windows, and tick.

Replicas on one PostgreSQL split the models by shard (:mod:`monitor.run.shards`): each fires
the scans of its own shards' models and judges their staleness. Each scan also takes its
model's lease, so every (model, window end) is scanned by one replica even while a shard
changes hands; the rest of ``tick`` (reminders, delivery, retention) runs on one replica at a
time under the tick lease. The due windows come from the DB (every grid window after the
model's latest stored scan, at most ``run.catch_up`` of them, oldest first), so a restart, a
dead replica or a state DB outage leaves no gap: the next run scans what is missing.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.alerts.notify import Notifier
from monitor.config.schema import Config, ModelConfig
from monitor.run import leases, shards
from monitor.run.logs import logger
from monitor.run.notifiers import build_notifier
from monitor.run.tick import tick
from monitor.scans.service import finish_backfill, scan_and_store
from monitor.scans.staleness import Staleness
from monitor.slack.digest import send_digest
from monitor.sources import SourceEngines
from monitor.status.digest import compose_digest
from monitor.store import Heartbeat, Scan
from monitor.windows import Every, isoformat_z

TICK_LEASE = "tick"


DIGEST = "digest"
DIGEST_GAP = timedelta(minutes=1)  # cron's resolution: one digest per firing


def new_holder() -> str:
    """This process's lease holder id: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def due_windows(
    session: Session, model: ModelConfig, *, now: datetime, limit: int
) -> list[datetime]:
    """Grid window ends after the latest stored scan up to ``now``, the newest ``limit``."""
    latest = model.grid.latest(now)
    last = session.scalar(select(func.max(Scan.window_end)).where(Scan.model == model.name))
    if last is None:
        return [latest]
    if last >= latest:
        return []
    grid = model.grid
    if isinstance(grid, Every):  # arithmetic, so a long gap on a seconds grid costs nothing
        start = max(last + grid.interval, latest - (limit - 1) * grid.interval)
        return list(grid.between(start, latest))
    return list(deque(grid.between(last + timedelta(seconds=1), latest), maxlen=limit))


@dataclass
class Service:
    """What the scheduled jobs share: config, state DB sessions, source engines, notifier."""

    config: Config
    sessions: Callable[[], Session]
    engines: SourceEngines
    holder: str = field(default_factory=new_holder)
    stopping: threading.Event = field(default_factory=threading.Event)
    # Models whose first run (the catch-up) finished; only they are judged for staleness.
    caught_up: set[str] = field(default_factory=set)
    # The shards this replica holds (from the last claim): whose models it scans and judges.
    owned: frozenset[int] = frozenset()
    # When each quiet model's staleness is next worth reading (see monitor.scans.staleness).
    staleness: Staleness = field(default_factory=Staleness)
    _notifier: Notifier | None = None

    def claim_shards(self) -> list[str]:
        """Renew and rebalance this replica's shards; the models of the shards it gained,
        whose due windows the caller should scan now (a takeover, a replica that left)."""
        try:
            owned = shards.claim(self.sessions, holder=self.holder, ttl=self.config.run.lease)
        except Exception as exc:  # state DB down: keep firing what we had; scans stay fenced
            logger().error("shard claim failed", extra={"error": _describe(exc)})
            return []
        gained, lost = owned - self.owned, self.owned - owned
        self.owned = owned
        if gained or lost:
            logger().info("shards", extra={"held": len(owned), "gained": len(gained)})
        # A model handed over is judged here again only after our next catch-up of it.
        left = {n for n in set(self.caught_up) if shards.shard_of(n) in lost}
        self.caught_up -= left
        for name in left:  # another replica judges it meanwhile: read it afresh if it returns
            self.staleness.forget(name)
        return [m.name for m in self.config.models if shards.shard_of(m.name) in gained]

    def release_shards(self) -> None:
        """Give our shards back at shutdown, so the other replicas take them at once."""
        try:
            shards.release(self.sessions, holder=self.holder)
        except Exception as exc:  # they expire within the lease anyway
            logger().warning("shard release failed", extra={"error": _describe(exc)})
        self.owned = frozenset()

    def owns(self, name: str) -> bool:
        return shards.shard_of(name) in self.owned

    def scheduled_scan(self, name: str) -> None:
        """A firing of model ``name``'s schedule: scanned here if its shard is ours."""
        if self.owns(name):
            self.scan_model(name)

    def scan_model(self, name: str) -> None:
        """One scheduled run of model ``name``: scan its due windows under its lease."""
        model = self._model(name)
        if model is None or self.stopping.is_set():
            return
        ttl = self.config.run.lease
        try:
            with leases.held(self.sessions, f"scan:{name}", holder=self.holder, ttl=ttl) as fence:
                if fence is not None:
                    self._scan_due(model, fence)
            self.caught_up.add(name)
            self.staleness.forget(name)  # its latest window end may have moved
        except Exception as exc:  # the state DB is down: logged, retried at the next firing
            logger().error("scan run failed", extra={"model": name, "error": _describe(exc)})

    def _scan_due(self, model: ModelConfig, fence: leases.Fence) -> None:
        with self.sessions() as session:
            ends = due_windows(
                session, model, now=datetime.now(UTC), limit=self.config.run.catch_up
            )
        # After an outage longer than run.backfill_after windows the catch-up is a backfill:
        # every window moves the alerts, and each alert is notified once, at the end.
        hold = len(ends) > self.config.run.backfill_after
        for end in ends:
            if self.stopping.is_set() or fence.lost.is_set():
                break
            if not self.scan_window(model, end, fence=fence, hold=hold):
                break
        if hold and not fence.lost.is_set():
            with self.sessions() as session:
                finish_backfill(
                    config=self.config, models=[model], session=session, now=datetime.now(UTC)
                )

    def scan_window(
        self,
        model: ModelConfig,
        end: datetime,
        *,
        fence: leases.Fence | None = None,
        hold: bool = False,
    ) -> bool:
        """Scan one window and commit it with its alerts, or roll it all back.

        With ``fence``, the commit happens only if the scan lease is still ours; False when
        it was taken over (nothing stored: the new holder scans the window). ``hold``: one
        window of a catch-up treated as a backfill (notifications held for its end).
        """
        started = time.monotonic()
        with self.sessions() as session:
            try:
                report, _scan = scan_and_store(
                    model,
                    end,
                    config=self.config,
                    engines=self.engines,
                    session=session,
                    now=datetime.now(UTC),
                    hold=hold,
                )
                if fence is not None:
                    leases.check(session, fence)
                session.commit()
            except leases.LeaseLostError as exc:  # a stale holder: refused, not an error
                session.rollback()
                logger().warning(
                    "scan not stored",
                    extra=_scan_fields(model, end, started)
                    | {"status": "fenced", "error": str(exc)},
                )
                return False
            except Exception as exc:  # not stored: the window stays due and is retried
                session.rollback()
                logger().error(
                    "scan not stored",
                    extra=_scan_fields(model, end, started)
                    | {"status": "not_stored", "error": _describe(exc)},
                )
                return True
        fields = _scan_fields(model, end, started) | {
            "status": report.status,
            "rows": report.rows,
            "alerts": [t.describe() for t in report.alerts],
        }
        if report.error:
            fields["error"] = report.error
        logger().info("scan", extra=fields)
        return True

    def tick(self) -> None:
        """Staleness of our shards' models here; reminders, outbox delivery and retention on
        one replica at a time (the tick lease's holder)."""
        now = datetime.now(UTC)
        ttl = self.config.run.lease
        try:
            with leases.held(self.sessions, TICK_LEASE, holder=self.holder, ttl=ttl) as mine:
                busy = leases.live(self.sessions, prefix="scan:")
                # A model being scanned (or not yet looked at by this process) is not judged:
                # its data may be landing right now, e.g. the very first scan of a new model.
                judged = [
                    m
                    for m in self.config.models
                    if m.name in self.caught_up
                    and self.owns(m.name)
                    and f"scan:{m.name}" not in busy
                ]
                done = tick(
                    self.sessions,
                    config=self.config,
                    now=now,
                    notifier=self.notifier,
                    judged=judged,
                    alerts=mine is not None,
                    clock=partial(datetime.now, UTC),
                    staleness=self.staleness,
                )
                if mine:
                    leases.beat(self.sessions, "tick", holder=self.holder, at=datetime.now(UTC))
        except Exception as exc:  # state DB down: the next tick tries again
            logger().error("tick failed", extra={"error": _describe(exc)})
            return
        delivery, pruned = done.alerts.delivery, done.pruned_scans
        if delivery.sent or delivery.failed or delivery.retried or pruned or done.alerts.pruned:
            logger().info(
                "tick",
                extra={
                    "sent": delivery.sent,
                    "retried": delivery.retried,
                    "failed": delivery.failed,
                    "pruned_scans": pruned,
                    "pruned_notifications": done.alerts.pruned,
                },
            )

    def digest(self) -> None:
        """Post the scheduled health digest once per firing, whichever replica comes first."""
        now = datetime.now(UTC)
        try:
            with leases.held(
                self.sessions, DIGEST, holder=self.holder, ttl=self.config.run.lease
            ) as mine:
                if not mine:
                    return
                with self.sessions() as session:
                    last = session.get(Heartbeat, DIGEST)
                    # Replicas fire the same cron minute: the first one's beat covers the rest.
                    if last is not None and now - last.beat_at < DIGEST_GAP:
                        return
                    channel, text = compose_digest(self.config, session=session, now=now)
                send_digest(self.config, channel=channel, text=text)  # no connection held
                leases.beat(self.sessions, DIGEST, holder=self.holder, at=now)
        except Exception as exc:  # Slack or the state DB down: the next firing posts afresh
            logger().error("digest failed", extra={"error": _describe(exc)})
            return
        logger().info("digest posted")

    @property
    def notifier(self) -> Notifier:
        """The configured notifier (Slack or console), built once per config."""
        if self._notifier is None:
            self._notifier = build_notifier(self.config, sessions=self.sessions)
        return self._notifier

    def reload(self, config: Config) -> None:
        """Use ``config`` from the next unit of work on (SIGHUP)."""
        self.config = config
        self._notifier = None
        self.staleness = Staleness()  # schedules may have changed

    def _model(self, name: str) -> ModelConfig | None:
        return next((m for m in self.config.models if m.name == name), None)


def _scan_fields(model: ModelConfig, end: datetime, started: float) -> dict[str, object]:
    return {
        "model": model.name,
        "window_start": isoformat_z(end - model.window),
        "window_end": isoformat_z(end),
        "duration_s": round(time.monotonic() - started, 3),
    }


def _describe(exc: BaseException) -> str:
    # The first line only: driver errors can carry the whole SQL statement and parameters.
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:300]
