"""Health rules of DESIGN.md that the status tests of the scan core do not cover."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.wiring import evaluate_stored_scan
from monitor.config import Config
from monitor.scans.signals import signal_scan_error
from monitor.status import status_report
from monitor.store import Alert, Scan
from tests.monitor.dashboard.conftest import NOW
from tests.monitor.scancore.conftest import day


def _scan(sessions: sessionmaker[Session], config: Config, end_day: float, status: str) -> None:
    end = day(end_day)
    scan = Scan(
        model="churn",
        window_start=end - timedelta(days=1),
        window_end=end,
        reference={},
        config_hash="h",
        status=status,
        error="table 'preds' not found" if status == "error" else None,
        started_at=end,
        finished_at=end,
    )
    with sessions() as session:
        session.add(scan)
        session.flush()
        model = config.model("churn")
        evaluate_stored_scan(session=session, scan=scan, model=model, config=config, now=end)
        signal_scan_error(session=session, scan=scan, model=model, config=config, now=end)
        session.commit()


def _churn(sessions: sessionmaker[Session], config: Config) -> dict[str, object]:
    with sessions() as session:
        report = status_report(config, session=session, now=NOW, models=["churn"])
    return report.as_json()["models"][0]


def test_an_open_scan_error_alert_keeps_the_model_yellow_after_scans_recover(
    sessions: sessionmaker[Session], config: Config
) -> None:
    for end_day in (5.2, 5.4, 5.6):
        _scan(sessions, config, end_day, "error")
    _scan(sessions, config, 6, "ok")
    with sessions() as session:
        alert = session.query(Alert).filter_by(check_id="scan_error").one()
        assert alert.state == "recovered"  # condition cleared, alert still open (sticky)
    churn = _churn(sessions, config)
    assert churn["health"] == "yellow"
    assert churn["reason"] == f"scan_error alert #{alert.id} is open (recovered)"


def test_resolving_the_scan_error_alert_turns_the_model_green(
    sessions: sessionmaker[Session], config: Config
) -> None:
    from monitor.alerts.actions import apply_action

    for end_day in (5.2, 5.4, 5.6):
        _scan(sessions, config, end_day, "error")
    _scan(sessions, config, 6, "ok")
    with sessions() as session:
        alert = session.query(Alert).filter_by(check_id="scan_error").one()
        apply_action(session=session, action="ack", alert_id=alert.id, by="ana", now=NOW)
        session.commit()
    assert _churn(sessions, config)["health"] == "green"
