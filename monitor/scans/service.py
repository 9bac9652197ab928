"""Scan, store, judge alerts, commit: the unit `monitor scan`, the scheduler and the demo call."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from monitor.alerts.store import Transition
from monitor.alerts.wiring import evaluate_stored_scan, release_backfill
from monitor.config.schema import Config, ModelConfig
from monitor.scans.result import ScanReport
from monitor.scans.run import run_scan
from monitor.scans.signals import signal_scan_error
from monitor.scans.staleness import Staleness
from monitor.scans.store import kept, store_scan
from monitor.sources import SourceEngines
from monitor.store import Scan, note_versions

Clock = Callable[[datetime], datetime]


def scan_and_store(
    model: ModelConfig,
    window_end: datetime,
    *,
    config: Config,
    engines: SourceEngines,
    session: Session,
    now: datetime,
    hold: bool = False,
) -> tuple[ScanReport, Scan]:
    """Run one scan, store it and move its alerts, all in ``session``; never commits.

    A scan, its results, its alert transitions and their notifications commit together or
    not at all. ``hold``: the scan is one window of a backfill, whose notifications are held
    for its end (``release_backfill``); a regular scan first settles any a stopped backfill
    of the model left held.
    """
    report = run_scan(model, window_end, engines=engines, session=session)
    scan = store_scan(report, session=session)
    note_versions(
        session=session,
        model=model.name,
        versions=report.model_versions,
        seen_from=report.window.start,
        now=now,
    )
    kept_id = scan.id if kept(report, scan) else None
    alerts = []
    if not hold:
        alerts += release_backfill(session=session, config=config, models=[model], now=now)
    if kept_id is None:  # kept results were judged when they were stored
        alerts += evaluate_stored_scan(
            session=session, scan=scan, model=model, config=config, now=now, hold=hold
        )
    failure = report.error if kept_id is not None else None
    alerts += signal_scan_error(
        session=session,
        scan=scan,
        model=model,
        config=config,
        now=now,
        failure=failure,
        hold=hold,
    )
    return dataclasses.replace(report, kept_scan_id=kept_id, alerts=tuple(alerts)), scan


def scan_all(
    plan: Sequence[tuple[ModelConfig, datetime]],
    *,
    config: Config,
    engines: SourceEngines,
    session: Session,
    dry_run: bool = False,
    clock: Clock | None = None,
    hold: bool = False,
) -> Iterator[ScanReport]:
    """Scan each (model, window end) in order, one transaction per scan.

    A dry run goes the same way, alert transitions included (so it shows what would have
    fired, with debounce across the windows), and rolls everything back at the end.
    ``clock(window_end)`` gives the time transitions are stamped with (default: the wall
    clock; the demo simulates time with the window end). ``hold``: a backfill; each
    scan's notifications are held, and the caller calls ``release_backfill`` at the end.
    """
    try:
        for model, end in plan:
            now = clock(end) if clock else datetime.now(UTC)
            report, _scan = scan_and_store(
                model, end, config=config, engines=engines, session=session, now=now, hold=hold
            )
            if not dry_run:
                session.commit()
            yield report
    finally:
        if dry_run or session.in_transaction():
            session.rollback()


def finish_backfill(
    *, config: Config, models: Sequence[ModelConfig], session: Session, now: datetime
) -> list[Transition]:
    """The end of a backfill: one notification per alert it moved (its final state); commits."""
    done = release_backfill(session=session, config=config, models=models, now=now)
    session.commit()
    return done


def check_stale(
    *, config: Config, session: Session, now: datetime, watch: Staleness | None = None
) -> None:
    """Judge every model's staleness at ``now`` and commit the transitions.

    ``watch``: the next-check times kept by a long-running service, so that a model whose
    verdict cannot have changed since the last tick is not even read (default: read all).
    """
    if config.models:
        (watch or Staleness()).judge(config=config, session=session, models=config.models, now=now)
    session.commit()
