"""An empty reference turns drift monitoring off: `config check` fails on it and a scan says so
(issue 12, item 2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Engine

from monitor.cli import main
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
    tree = {"state_db": url, "sources": {"logs": {"url": url}}, "models": [model_dict(**model)]}
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    return str(path)


EMPTY_PERIOD = {"between": ["2026-01-01", "2026-01-02"]}  # the logs start in March


def test_config_check_fails_on_a_reference_period_without_rows(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    proc = run("config", "check", "-c", _config_file(tmp_path, db_url, reference=EMPTY_PERIOD))
    assert proc.returncode == 2
    assert (
        "model 'churn': reference between 2026-01-01T00:00:00Z and 2026-01-02T00:00:00Z "
        "has 0 rows" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_config_check_passes_on_a_reference_period_with_rows(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    proc = run("config", "check", "-c", _config_file(tmp_path, db_url))
    assert proc.returncode == 0, proc.stderr


def test_config_check_fails_on_an_empty_reference_table(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 24), "preds")
    write(engine, log_frame(T0, 24).iloc[0:0], "training")
    proc = run(
        "config", "check", "-c", _config_file(tmp_path, db_url, reference={"table": "training"})
    )
    assert proc.returncode == 2
    assert "model 'churn': reference table 'training' has 0 rows" in proc.stderr


def test_config_check_fails_on_a_reference_file_with_only_a_header(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 24), "preds")
    training = tmp_path / "train.csv"
    log_frame(T0, 1).iloc[0:0].to_csv(training, index=False)
    config = _config_file(tmp_path, db_url, reference={"file": str(training)})
    proc = run("config", "check", "-c", config)
    assert proc.returncode == 2
    assert f"model 'churn': reference file {str(training)!r} has 0 rows" in proc.stderr


def test_config_check_fails_on_a_feature_that_is_null_throughout_the_reference(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    frame = log_frame(T0, 3 * 24)
    frame["income"] = frame["income"].where(frame["ts"] >= T0.replace(day=2, tzinfo=None))
    write(engine, frame, "preds")
    proc = run("config", "check", "-c", _config_file(tmp_path, db_url))
    assert proc.returncode == 2
    assert (
        "model 'churn': reference between 2026-03-01T00:00:00Z and 2026-03-02T00:00:00Z "
        "has no non-null values of feature 'income'" in proc.stderr
    )


def test_a_scan_against_an_empty_reference_says_drift_was_not_judged(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    config = _config_file(tmp_path, db_url, reference=EMPTY_PERIOD)
    assert run("db", "upgrade", "-c", config).returncode == 0
    proc = run("scan", "--at", "2026-03-03", "-c", config)
    assert proc.returncode == 0, proc.stderr
    assert "drift not judged: reference has 0 rows" in proc.stdout
    status = run("status", "-c", config)
    assert "drift not judged: reference has 0 rows" in status.stdout


def test_a_scan_against_a_reference_with_rows_has_no_such_warning(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    write(engine, log_frame(T0, 3 * 24), "preds")
    config = _config_file(tmp_path, db_url)
    assert run("db", "upgrade", "-c", config).returncode == 0
    proc = run("scan", "--at", "2026-03-03", "-c", config)
    assert proc.returncode == 0, proc.stderr
    assert "not judged" not in proc.stdout


def test_config_check_fails_on_a_rolling_reference_empty_before_the_latest_window(
    run: Callable[..., Ran], db_url: str, engine: Engine, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    write(engine, log_frame(T0, 3 * 24), "preds")  # March: long before the latest window
    config = _config_file(tmp_path, db_url, reference={"previous": "7d"})
    proc = run("config", "check", "-c", config)
    assert proc.returncode == 2
    latest = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = latest - timedelta(days=8), latest - timedelta(days=1)
    period = f"{start:%Y-%m-%dT%H:%M:%SZ} and {end:%Y-%m-%dT%H:%M:%SZ}"
    assert f"model 'churn': reference previous 1w (between {period}" in proc.stderr
    assert "has 0 rows" in proc.stderr
