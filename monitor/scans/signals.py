"""The model-level alert checks a scan's own results cannot give: ``scan_error`` and ``stale``.

``scan_error`` fails once ``ERRORS_IN_A_ROW`` scans of a model in a row ended in error and
passes on the next scan that runs. ``stale`` fails when no scan has succeeded within one
schedule interval plus a grace of one interval (critical after ``STALE_CRITICAL_INTERVALS``)
and passes once fresh data is scanned. Both follow the usual alert lifecycle and never touch
the model's other alerts.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.alerts.conditions import CheckSignal
from monitor.alerts.evaluate import evaluate_scan
from monitor.alerts.store import Transition
from monitor.alerts.wiring import policy_for, routing_for
from monitor.config.schema import Config, ModelConfig
from monitor.store import Scan, ScanAttempt
from monitor.windows import isoformat_z, step

ERRORS_IN_A_ROW = 3
STALE_AFTER_STEPS = 2  # one schedule interval plus a grace of one interval
STALE_CRITICAL_INTERVALS = 3


def signal_scan_error(
    *,
    session: Session,
    scan: Scan,
    model: ModelConfig,
    config: Config,
    now: datetime,
    failure: str | None = None,
    hold: bool = False,
) -> list[Transition]:
    """Count the run that stored ``scan`` into the ``scan_error`` check of its model; never
    commits. ``failure``: the error of a run that failed beside ``scan``'s kept results.

    A window counts as failed when its latest run failed, whether that run's error is the
    stored scan or a ``scan_attempt`` beside kept results.
    """
    failed_since = (
        select(ScanAttempt.id)
        .where(ScanAttempt.scan_id == Scan.id, ScanAttempt.finished_at > Scan.finished_at)
        .exists()
    )
    recent = session.execute(
        select(Scan.status, failed_since)
        .where(Scan.model == model.name, Scan.window_end <= scan.window_end)
        .order_by(Scan.window_end.desc())
        .limit(ERRORS_IN_A_ROW)
    ).all()
    failing = len(recent) == ERRORS_IN_A_ROW and all(s == "error" or f for s, f in recent)
    error = failure or scan.error
    signal = CheckSignal(
        check_id="scan_error",
        passed=not failing if scan.status == "error" or failure else True,
        severity="warning",
        summary=f"{ERRORS_IN_A_ROW} scans in a row ended in error: {error}"
        if failing
        else "scans run",
    )
    return _evaluate(session, model, config, signal, scan.window_end, now, hold)


def signal_stale(
    *, session: Session, model: ModelConfig, config: Config, now: datetime
) -> list[Transition]:
    """Judge whether ``model``'s data is stale at ``now``; never commits."""
    gap = step(model.grid, now)
    last = session.scalar(
        select(Scan.window_end)
        .where(Scan.model == model.name, Scan.status != "error")
        .order_by(Scan.window_end.desc())
        .limit(1)
    )
    since = f"last scanned window ended {isoformat_z(last)}" if last else ""
    if last is None:
        # Never scanned successfully: judge from the first attempt. Before any attempt there
        # is nothing to be late for; a failing first scan is scan_error's business.
        last = session.scalar(select(func.min(Scan.window_end)).where(Scan.model == model.name))
        if last is None:
            return []
        since = f"no successful scan since the first attempt (window ending {isoformat_z(last)})"
    late = now - last
    stale = late > STALE_AFTER_STEPS * gap
    severity = "critical" if late > STALE_CRITICAL_INTERVALS * gap else "warning"
    signal = CheckSignal(
        check_id="stale", passed=not stale, severity=severity, summary=f"stale: {since}"
    )
    # Each judgement counts (keyed by now): staleness is already debounced by its interval.
    return _evaluate(session, model, config, signal, now, now)


def _evaluate(
    session: Session,
    model: ModelConfig,
    config: Config,
    signal: CheckSignal,
    window_end: datetime,
    now: datetime,
    hold: bool = False,
) -> list[Transition]:
    # Both checks debounce themselves (3 errors, a missed interval): raise and clear at once.
    policy = dataclasses.replace(policy_for(model), raise_after=1, clear_after=1)
    return evaluate_scan(
        session=session,
        model=model.name,
        window_end=window_end,
        signals=[signal],
        policy=policy,
        routing=routing_for(config),
        now=now,
        hold=hold,
    )
