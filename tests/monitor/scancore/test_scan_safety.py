"""A broken config never wipes good history; a future window is refused (issue 12, 1 and 17)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.cli import main
from monitor.config import Config
from monitor.scans.service import scan_all
from monitor.sources import SourceEngines
from monitor.status import status_report
from monitor.store import Alert, CheckResult, ReferenceProfile, Scan
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write

Engines = Callable[[Config], SourceEngines]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    def invoke(*args: str) -> Ran:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return invoke


def _config_file(tmp_path: Path, url: str, name: str = "monitor.yaml", **model: Any) -> str:
    tree = {"state_db": url, "sources": {"logs": {"url": url}}, "models": [model_dict(**model)]}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(tree))
    return str(path)


def _scan(config: Config, engines: SourceEngines, session: Session, at_day: float) -> Any:
    plan = [(config.model("churn"), day(at_day))]
    (report,) = scan_all(plan, config=config, engines=engines, session=session)
    return report


def _result_count(session: Session, scan_id: int) -> int:
    stmt = select(func.count()).select_from(CheckResult).where(CheckResult.scan_id == scan_id)
    return int(session.scalar(stmt) or 0)


def test_an_error_never_replaces_a_stored_scan_that_has_results(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    good = make_config(db_url)
    first = _scan(good, engines_for(good), session, 2)
    assert first.status in ("ok", "failed")
    kept = session.scalars(select(Scan)).one()
    results = _result_count(session, kept.id)
    assert results > 5

    broken = make_config(db_url, model_dict(target="labl"))  # a misspelt target column
    again = _scan(broken, engines_for(broken), session, 2)
    assert again.status == "error" and "target column 'labl' not found" in (again.error or "")

    session.expire_all()
    stored = session.scalars(select(Scan)).one()
    assert (stored.id, stored.status, stored.error) == (kept.id, first.status, None)
    assert _result_count(session, stored.id) == results
    report = status_report(good, session=session, now=day(2) + timedelta(hours=1))
    model = report.as_json()["models"][0]
    assert model["last_scan"]["id"] == kept.id
    assert model["last_scan"]["status"] == first.status
    attempt = model["last_failed_attempt"]
    assert attempt["window_end"] == "2026-03-03T00:00:00Z"
    assert attempt["kept_scan_id"] == kept.id
    assert "target column 'labl' not found" in attempt["error"]


def test_a_failed_run_leaves_the_status_once_a_later_scan_succeeds(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 4 * 24), "preds")
    good = make_config(db_url)
    broken = make_config(db_url, model_dict(target="labl"))
    assert _scan(good, engines_for(good), session, 2).status != "error"
    assert _scan(broken, engines_for(broken), session, 2).status == "error"
    at = day(3) + timedelta(hours=1)
    shown = status_report(good, session=session, now=at).as_json()["models"][0]
    assert shown["last_failed_attempt"]["window_end"] == "2026-03-03T00:00:00Z"

    assert _scan(good, engines_for(good), session, 3).status != "error"  # the next window
    model = status_report(good, session=session, now=at).as_json()["models"][0]
    assert model["last_failed_attempt"] is None
    assert model["last_scan"]["window_end"] == "2026-03-04T00:00:00Z"


def test_a_scan_validates_every_column_before_it_writes_anything(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    # The reference reads fine; the live read would fail only on the latency column.
    write(engine, log_frame(T0, 3 * 24), "preds")
    broken = make_config(db_url, model_dict(latency="latency_s", model_version="version"))
    report = _scan(broken, engines_for(broken), session, 2)
    assert report.status == "error"
    # Every missing column is named at once, before the reference is read and cached.
    assert "latency column 'latency_s' not found" in (report.error or "")
    assert "model version column 'version' not found" in (report.error or "")
    assert session.scalar(select(func.count()).select_from(ReferenceProfile)) == 0
    assert session.scalars(select(Scan.status)).all() == ["error"]


def test_an_error_still_replaces_an_earlier_error_and_a_success_replaces_both(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    broken = make_config(db_url, model_dict(target="labl"))
    assert _scan(broken, engines_for(broken), session, 2).status == "error"
    assert _scan(broken, engines_for(broken), session, 2).status == "error"
    assert session.scalars(select(Scan.status)).all() == ["error"]
    good = make_config(db_url)
    assert _scan(good, engines_for(good), session, 2).status != "error"
    session.expire_all()
    stored = session.scalars(select(Scan)).one()
    assert stored.status != "error" and _result_count(session, stored.id) > 5


def test_scan_error_alert_counts_a_failed_attempt_beside_kept_results(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 6 * 24), "preds")
    good = make_config(db_url)
    assert _scan(good, engines_for(good), session, 2).status != "error"
    broken = make_config(db_url, model_dict(target="labl"))
    # The re-scan of day 2 fails beside its kept results, then two new windows fail: three
    # failed runs in a row, as on today's main (where the first one wiped the results).
    for n in (2, 3, 4):
        assert _scan(broken, engines_for(broken), session, n).status == "error"
    session.expire_all()
    stored = {end: status for end, status in session.execute(select(Scan.window_end, Scan.status))}
    assert stored[day(2)] != "error" and [stored[day(3)], stored[day(4)]] == ["error"] * 2
    scan_error = select(Alert.state).where(Alert.check_id == "scan_error")
    assert session.scalars(scan_error).all() == ["firing"]
    # The next scan that runs clears the condition; the alert stays open until acknowledged.
    assert _scan(good, engines_for(good), session, 5).status != "error"
    assert session.scalars(scan_error).all() == ["recovered"]


def test_deleting_a_scan_deletes_the_attempts_kept_beside_it(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    from monitor.run.retention import prune_scans
    from monitor.store import ScanAttempt

    write(engine, log_frame(T0, 4 * 24), "preds")
    good, broken = make_config(db_url), make_config(db_url, model_dict(target="labl"))
    assert _scan(good, engines_for(good), session, 2).status != "error"
    assert _scan(broken, engines_for(broken), session, 2).status == "error"
    assert _scan(good, engines_for(good), session, 3).status != "error"
    assert session.scalar(select(func.count()).select_from(ScanAttempt)) == 1
    session.close()
    assert prune_scans(lambda: Session(engine), before=day(2) + timedelta(hours=1)) == 1
    assert session.scalar(select(func.count()).select_from(ScanAttempt)) == 0


def test_cli_scan_with_a_broken_config_keeps_the_good_results_and_status_shows_both(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    good = _config_file(tmp_path, db_url)
    bad = _config_file(tmp_path, db_url, name="bad.yaml", target="labl")
    assert run("db", "upgrade", "-c", good).returncode == 0
    assert run("scan", "churn", "-c", good, "--at", "2026-03-03").returncode == 0
    failed = run("scan", "churn", "-c", bad, "--at", "2026-03-03")
    assert failed.returncode == 1
    assert "target column 'labl' not found" in failed.stdout
    assert "results of scan #1 kept" in failed.stdout
    as_json = run("scan", "churn", "-c", bad, "--at", "2026-03-03", "--json")
    assert json.loads(as_json.stdout.splitlines()[0])["kept_scan_id"] == 1

    report = json.loads(run("status", "churn", "--json", "-c", good).stdout)["models"][0]
    assert report["last_scan"]["status"] != "error"
    assert report["data_drift"]["columns"]  # the good results are still what status shows
    assert report["last_failed_attempt"]["kept_scan_id"] == 1
    text = run("status", "churn", "-c", good).stdout
    assert "last attempt failed" in text and "target column 'labl' not found" in text
    with Session(engine) as session:
        assert session.scalars(select(Scan.status)).all() != ["error"]
        assert _result_count(session, 1) > 5


def test_scan_at_a_future_window_is_refused_naming_the_latest_complete_one(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    config = _config_file(tmp_path, db_url)
    assert run("db", "upgrade", "-c", config).returncode == 0
    future = datetime.now(UTC) + timedelta(days=2)
    proc = run("scan", "churn", "-c", config, "--at", future.strftime("%Y-%m-%dT%H:%MZ"))
    assert proc.returncode == 2, proc.stdout
    assert "in the future" in proc.stderr and "latest complete window" in proc.stderr
    latest = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert latest.strftime("%Y-%m-%dT%H:%M:%SZ") in proc.stderr  # schedule: every 1d
    assert "Traceback" not in proc.stderr
    backfill = run("scan", "-c", config, "--from", "2026-03-02", "--to", future.isoformat())
    assert backfill.returncode == 2 and "in the future" in backfill.stderr
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 0
