"""`monitor config check` judges the state DB too: reachable and migrated, not created yet, or
unreachable (an error with the password masked); a SQLite file whose directory does not exist
is named by `config check`, `db upgrade` and `status` alike, never "unable to open"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from monitor.cli import main
from tests.monitor.scancore.conftest import model_dict

Run = Callable[..., str]
SECRET = "St4te-S3cret"


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str, code: int = 0) -> str:
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        out = capsys.readouterr()
        assert (exited.value.code or 0) == code, out.out + out.err
        return out.out + out.err

    return run


def _config(tmp_path: Path, state_db: str) -> str:
    source = tmp_path / "logs.db"
    import sqlite3

    with sqlite3.connect(source) as conn:  # the columns model_dict names, one row
        conn.execute(
            "CREATE TABLE preds (ts TEXT, age REAL, income REAL, plan TEXT, pred INTEGER, "
            "score REAL, label INTEGER, latency_ms REAL)"
        )
        conn.execute("INSERT INTO preds VALUES ('2026-03-01 00:00:00', 1, 2, 'a', 1, 0.5, 1, 3)")
    tree = {
        "state_db": state_db,
        "sources": {"logs": {"url": f"sqlite:///{source}"}},
        "models": [model_dict(reference={"table": "preds"})],
    }
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    return str(path)


def test_config_check_says_not_created_then_migrated(tmp_path: Path, run_cli: Run) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    before = run_cli("config", "check", "-c", config)
    assert "config OK" in before and "not created yet: run `monitor db upgrade`" in before
    run_cli("db", "upgrade", "-c", config)
    after = run_cli("config", "check", "-c", config)
    assert "reachable, migrated" in after, after


def test_config_check_fails_on_an_unreachable_state_db_without_its_password(
    tmp_path: Path, run_cli: Run
) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    url = f"postgresql+psycopg://monitor:{SECRET}@127.0.0.1:9/monitor"
    output = run_cli("config", "check", "-c", _config(tmp_path, url), code=2)
    assert "state DB postgresql+psycopg://monitor:***@127.0.0.1:9/monitor" in output, output
    assert "config OK" not in output and SECRET not in output and "Traceback" not in output


@pytest.mark.parametrize(
    "command", [["config", "check"], ["db", "upgrade"], ["status"]], ids=" ".join
)
def test_a_sqlite_state_db_in_a_missing_directory_names_the_directory(
    tmp_path: Path, run_cli: Run, command: list[str]
) -> None:
    missing = tmp_path / "no-such-dir"
    config = _config(tmp_path, f"sqlite:///{missing / 'monitor.db'}")
    output = run_cli(*command, "-c", config, code=2)
    assert f"create the directory '{missing}'" in output or f"directory '{missing}'" in output
    assert "unable to open" not in output and not missing.exists()
