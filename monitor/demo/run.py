"""``monitor demo``: generated logs, scans over the simulated days, the health report.

Time is simulated: before each scan, the predictions made and the labels that arrived up to
that scan's window end are written to the log database, so ``label_delay`` matters exactly
as it would in production.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from monitor.alerts.actions import acknowledge
from monitor.alerts.queries import list_alerts
from monitor.config import load_config
from monitor.demo.config import REFERENCE_DAYS, demo_yaml
from monitor.demo.data import DAYS, SLOW_DAY, DemoLogs, generate
from monitor.demo.eta import generate_eta
from monitor.demo.tables import LogWriter
from monitor.run.tick import tick
from monitor.scans import scan_line
from monitor.scans.service import scan_all
from monitor.slack.console import ConsoleNotifier
from monitor.sources import SourceEngines
from monitor.status import status_report
from monitor.status.render import render_text
from monitor.store import make_engine, make_sessionmaker, migrate
from monitor.windows import isoformat_z

if TYPE_CHECKING:
    from monitor.scans import ScanReport

Echo = Callable[[str], None]


@dataclass
class DemoRun:
    directory: Path
    config_file: Path
    reports: list[ScanReport]
    status: dict[str, Any]


def run_demo(
    directory: Path, *, now: datetime | None = None, echo: Echo = print, state_db: str | None = None
) -> DemoRun:
    """Generate the logs in ``directory``, scan each simulated day, report each model's health."""
    now = now or datetime.now(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    directory.mkdir(parents=True, exist_ok=True)
    source = f"sqlite:///{directory / 'predictions.db'}"
    state = state_db or f"sqlite:///{directory / 'monitor.db'}"
    config_file = directory / "monitor.yaml"
    _fresh(directory)
    config_file.write_text(
        demo_yaml(state_db=state, source=source, start=start, config=str(config_file))
    )
    config = load_config(config_file)
    echo(f"demo files in {directory}: predictions.db (logs), monitor.db (state), monitor.yaml")
    logs = generate(start)
    echo(_story(logs))
    migrate.upgrade(state)
    reports = _scan_days(config, logs, echo)
    status = _final_status(config, now, echo)
    return DemoRun(directory, config_file, reports, status)


def _fresh(directory: Path) -> None:
    for name in ("predictions.db", "monitor.db", "monitor.db-wal", "monitor.db-shm"):
        (directory / name).unlink(missing_ok=True)


def _story(logs: DemoLogs) -> str:
    return (
        f"generated {len(logs.predictions):,} predictions of model 'churn' from "
        f"{isoformat_z(logs.start)}; reference: the first {REFERENCE_DAYS} days; "
        f"latency triples on {isoformat_z(logs.start + timedelta(days=SLOW_DAY))} for a day; "
        f"inputs shift from {isoformat_z(logs.drift_start)}; labels arrive 6-36 h late; "
        "and a steady arrival-time regressor 'eta' with per-city segments"
    )


def _scan_days(config: Any, logs: DemoLogs, echo: Echo) -> list[ScanReport]:
    rides = generate_eta(logs.start, days=DAYS)
    writer = LogWriter(config.sources["demo"].url.get_secret_value(), logs, rides)
    engine = make_engine(config.state_db)
    notifier = ConsoleNotifier(cast("TextIO", _EchoOut(echo)))
    reports = []
    try:
        with make_sessionmaker(engine)() as session, SourceEngines(config.sources) as engines:
            for day in range(REFERENCE_DAYS + 1, DAYS + 1):
                end = logs.start + timedelta(days=day)
                writer.advance_to(end)
                plan = [(model, end) for model in config.models]
                # Simulated time: each scan runs, and its alerts move, at its window end.
                for report in scan_all(
                    plan, config=config, engines=engines, session=session, clock=lambda e: e
                ):
                    echo(scan_line(report))
                    reports.append(report)
                tick(session, config=config, now=end, notifier=notifier)
                if _on_call(day, session=session, now=end, echo=echo):
                    tick(session, config=config, now=end, notifier=notifier)
    finally:
        writer.close()
        engine.dispose()
    return reports


# What the people on call do in the story, by simulated day (end of that day's scan).
ON_CALL: dict[int, tuple[str, str, str | None]] = {
    # The latency alert has recovered: it stays open until someone looks at it.
    9: ("latency_p99", "alice", None),
    # Drift confirmed and understood: acknowledging stops the reminders.
    11: ("drift:income", "bob", "new high-income segment from the spring campaign; retraining"),
}


def _on_call(day: int, *, session: Any, now: datetime, echo: Echo) -> bool:
    if day not in ON_CALL:
        return False
    check_id, person, note = ON_CALL[day]
    alert = next(a for a in list_alerts(session=session, model="churn") if a.check_id == check_id)
    echo(
        f"   (on call) alert {alert.id} {check_id} is {alert.state}; "
        f"{person} runs: monitor ack {alert.id} --by {person}"
        + (f' --note "{note}"' if note else "")
    )
    transition = acknowledge(session=session, alert_id=alert.id, by=person, now=now, note=note)
    session.commit()
    echo(f"   (on call) alert {alert.id} is now {transition.to_state}")
    return True


class _EchoOut:
    """A file-like object that hands whole lines to ``echo`` (the console notifier's out)."""

    def __init__(self, echo: Echo) -> None:
        self.echo = echo

    def write(self, text: str) -> int:
        for line in text.rstrip("\n").split("\n"):
            self.echo(line)
        return len(text)


def _final_status(config: Any, now: datetime, echo: Echo) -> dict[str, Any]:
    engine = make_engine(config.state_db)
    try:
        with make_sessionmaker(engine)() as session:
            report = status_report(config, session=session, now=now)
    finally:
        engine.dispose()
    echo("")
    echo(render_text(report))
    return report.as_json()
