"""Scan, store, commit: the unit `monitor scan`, the scheduler and the demo call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.config.schema import ModelConfig
from monitor.models import Scan
from monitor.scans.run import ScanReport, run_scan
from monitor.scans.store import store_scan
from monitor.sources import SourceEngines


def scan_and_store(
    model: ModelConfig, window_end: datetime, *, engines: SourceEngines, session: Session
) -> tuple[ScanReport, Scan]:
    """Run one scan and store it in ``session`` without committing.

    Alert evaluation belongs right after ``store_scan``, in the same transaction, so a scan,
    its results and its alert transitions commit together.
    """
    report = run_scan(model, window_end, engines=engines, session=session)
    return report, store_scan(report, session=session)


def scan_all(
    plan: Sequence[tuple[ModelConfig, datetime]],
    *,
    engines: SourceEngines,
    session: Session,
    dry_run: bool = False,
) -> Iterator[ScanReport]:
    """Scan each (model, window end) in order; one transaction per scan, none on a dry run."""
    for model, end in plan:
        if dry_run:
            yield run_scan(model, end, engines=engines, session=session)
            continue
        try:
            report, _scan = scan_and_store(model, end, engines=engines, session=session)
            session.commit()
        except Exception:
            session.rollback()
            raise
        yield report
    if dry_run:
        session.rollback()
