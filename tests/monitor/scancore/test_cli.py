"""The commands end to end through the CLI entry point (in-process, for speed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.cli import main
from monitor.store import Alert, Scan
from monitor.views import StatusReport
from tests.monitor.scancore.conftest import T0, log_frame, model_dict, write


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


def _config_file(tmp_path: Path, url: str, **model: Any) -> str:
    tree = {
        "state_db": url,
        "sources": {"logs": {"url": url}},
        "models": [model_dict(**model)],
    }
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    return str(path)


def test_db_upgrade_then_backfill_then_status_json(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 5 * 24), "preds")
    thresholds = [{"metric": "accuracy", "min": 0.99, "severity": "critical"}]
    config = _config_file(tmp_path, db_url, checks={"thresholds": thresholds})
    assert run("config", "check", "-c", config).returncode == 0
    upgraded = run("db", "upgrade", "-c", config)
    assert upgraded.returncode == 0, upgraded.stderr
    backfill = run("scan", "-c", config, "--from", "2026-03-02", "--to", "2026-03-05T12:00Z")
    assert backfill.returncode == 0, backfill.stderr
    lines = backfill.stdout.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("churn  ")] == [
        "2026-03-02T00:00:00Z",
        "2026-03-03T00:00:00Z",
        "2026-03-04T00:00:00Z",
        "2026-03-05T00:00:00Z",
    ]
    # The first failing window raises the alert; tick delivers it to the console notifier.
    assert "alert 1 churn accuracy: raised (- -> firing, critical)" in lines[1]
    assert any("Slack post to console" in line for line in lines)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 4
    status = run("status", "churn", "--json", "-c", config)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert StatusReport.model_validate(report).as_json() == report  # the published shape
    model = report["models"][0]
    assert set(model) >= {
        "name",
        "health",
        "reason",
        "last_scan",
        "next_scan",
        "performance",
        "operations",
        "data_drift",
        "model_drift",
        "alerts",
        "action_items",
    }
    assert model["last_scan"]["window_end"] == "2026-03-05T00:00:00Z"
    assert model["health"] == "red"  # the logs are from March: stale, and accuracy failing
    with Session(engine) as session:
        open_checks = set(session.scalars(select(Alert.check_id).where(Alert.state != "resolved")))
    # accuracy from the scans; stale judged by the tick at the end of `monitor scan`
    assert {"accuracy", "stale"} <= open_checks
    assert model["alerts"]["open"] == len(open_checks)
    assert model["performance"]["accuracy"]["threshold"] == 0.99
    assert model["performance"]["accuracy"]["passed"] is False
    assert model["operations"]["row_count"] == 24 * 20


def test_scan_at_a_time_dry_run_stores_nothing(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    config = _config_file(tmp_path, db_url)
    assert run("db", "upgrade", "-c", config).returncode == 0
    dry = run("scan", "churn", "--at", "2026-03-03T00:00Z", "--dry-run", "--json", "-c", config)
    assert dry.returncode == 0, dry.stderr
    found = json.loads(dry.stdout.splitlines()[0])
    assert found["window_end"] == "2026-03-03T00:00:00Z" and found["status"] != "error"
    assert found["rows"]["live"] == 24 * 20
    assert any(r["check"] == "dataset_drift" for r in found["results"])
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 0


def test_scan_before_db_upgrade_says_what_to_run(
    run: Callable[..., Ran], db_url: str, tmp_path: Path
) -> None:
    proc = run("scan", "-c", _config_file(tmp_path, db_url), "--at", "2026-03-02")
    assert proc.returncode == 2
    assert "monitor db upgrade" in proc.stderr and "Traceback" not in proc.stderr


def test_a_scan_error_exits_one_and_is_stored(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    config = _config_file(tmp_path, db_url, table="missing")
    assert run("db", "upgrade", "-c", config).returncode == 0
    proc = run("scan", "-c", config, "--at", "2026-03-02")
    assert proc.returncode == 1
    assert "error" in proc.stdout and "table 'missing' not found" in proc.stdout
    with Session(engine) as session:
        assert session.scalars(select(Scan.status)).all() == ["error"]


def test_config_check_reports_every_missing_table_and_column(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 1), "preds")
    features = {"numerical": ["age", "salary"], "categorical": ["plan"]}
    config = _config_file(
        tmp_path,
        db_url,
        features=features,
        latency="latency_s",
        reference={"table": "training_set"},
    )
    proc = run("config", "check", "-c", config)
    assert proc.returncode == 2
    assert "numerical feature column 'salary' not found" in proc.stderr
    assert "latency column 'latency_s' not found" in proc.stderr
    assert "table 'training_set' not found" in proc.stderr


def test_unknown_model_on_the_command_line_lists_the_known_ones(
    run: Callable[..., Ran], db_url: str, tmp_path: Path
) -> None:
    proc = run("scan", "nope", "-c", _config_file(tmp_path, db_url))
    assert proc.returncode == 2 and "unknown model 'nope'; known: churn" in proc.stderr


def test_dry_run_prints_what_would_fire_and_sends_nothing(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    thresholds = [{"metric": "accuracy", "min": 0.99, "severity": "critical"}]
    config = _config_file(tmp_path, db_url, checks={"thresholds": thresholds})
    assert run("db", "upgrade", "-c", config).returncode == 0
    dry = run("scan", "--from", "2026-03-02", "--to", "2026-03-03", "--dry-run", "-c", config)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert "  would be alert 1 churn accuracy: raised (- -> firing, critical)" in lines
    assert not any("Slack post" in line for line in lines)
    assert lines[-1] == "dry run: nothing stored, nothing sent"
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_status_refuses_an_unknown_format(
    run: Callable[..., Ran], db_url: str, tmp_path: Path
) -> None:
    config = _config_file(tmp_path, db_url)
    assert run("db", "upgrade", "-c", config).returncode == 0
    proc = run("status", "--format", "yaml", "-c", config)
    assert proc.returncode == 2 and "expected one of text, markdown, json" in proc.stderr


def test_scan_json_output_is_only_json_even_when_alerts_are_printed(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    thresholds = [{"metric": "accuracy", "min": 0.99, "severity": "critical"}]
    config = _config_file(tmp_path, db_url, checks={"thresholds": thresholds})
    assert run("db", "upgrade", "-c", config).returncode == 0
    proc = run("scan", "--at", "2026-03-03", "--json", "-c", config)
    assert proc.returncode == 0, proc.stderr
    documents = [json.loads(line) for line in proc.stdout.splitlines()]
    assert documents[0]["alerts"] == ["alert 1 churn accuracy: raised (- -> firing, critical)"]
    assert "Slack post to console" in proc.stderr


def test_scan_delivers_the_alerts_it_raised_in_the_same_run(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    write(engine, log_frame(today - timedelta(days=3), 3 * 24), "preds")
    reference = [(today - timedelta(days=3)).isoformat(), (today - timedelta(days=2)).isoformat()]
    thresholds = [{"metric": "accuracy", "min": 0.99, "severity": "critical"}]
    config = _config_file(
        tmp_path, db_url, reference={"between": reference}, checks={"thresholds": thresholds}
    )
    assert run("db", "upgrade", "-c", config).returncode == 0
    proc = run("scan", "-c", config)  # the latest window, stamped with the wall clock
    assert proc.returncode == 0, proc.stderr
    assert "churn accuracy: raised (- -> firing, critical)" in proc.stdout
    # delivered by this run's tick, not at the next scan
    assert "│ [CRITICAL] churn: accuracy" in proc.stdout


def test_a_failing_first_scan_raises_no_stale_alert(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    config = _config_file(tmp_path, db_url, table="missing")
    assert run("db", "upgrade", "-c", config).returncode == 0
    assert run("scan", "-c", config).returncode == 1
    with Session(engine) as session:
        assert session.scalars(select(Alert.check_id)).all() == []


def test_status_says_drift_was_not_judged_when_the_reference_window_is_empty(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    empty = {"between": ["2026-01-01", "2026-01-02"]}  # the logs start in March
    config = _config_file(tmp_path, db_url, reference=empty)
    assert run("db", "upgrade", "-c", config).returncode == 0
    assert run("scan", "--at", "2026-03-03", "-c", config).returncode == 0
    text = run("status", "-c", config)
    assert "data drift: not judged, insufficient data in all 3 features" in text.stdout
    assert "of features drifted" not in text.stdout
    report = json.loads(run("status", "--json", "-c", config).stdout)
    assert report["models"][0]["data_drift"]["detected"] is None


@pytest.mark.parametrize("command", ["status", "alerts"])
def test_reading_commands_do_not_create_a_missing_sqlite_state_db(
    run: Callable[..., Ran], tmp_path: Path, command: str
) -> None:
    state = tmp_path / "never-made.db"
    config = _config_file(tmp_path, f"sqlite:///{state}", table="preds")
    result = run(command, "-c", config)
    assert result.returncode == 2
    assert f"the state DB {str(state)!r} does not exist yet" in result.stderr
    assert "monitor db upgrade" in result.stderr
    assert not state.exists()
