"""A state DB that is unreachable or missing: every command that needs it says so in one line,
``error: state DB <url, password hidden>: <reason>``, and exits 2 (no traceback)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.monitor.scancore.conftest import model_dict

PASSWORD = "SECRETpw-7c2"
COMMANDS = [
    ["status"],
    ["alerts"],
    ["ack", "1", "--by", "oncall"],
    ["scan", "--at", "2026-03-03T00:00:00Z"],
    ["db", "upgrade"],
    ["run", "--port", "0"],
]


def _down_urls(backend: str, db_url: str, tmp_path: Path) -> dict[str, str]:
    """State DB URLs that cannot be used: nothing listens, or the database does not exist."""
    if backend == "sqlite":
        folder = tmp_path / "state.db.d"
        folder.mkdir()
        return {"unopenable": f"sqlite:///{folder}"}  # a directory, not a database file
    url = make_url(db_url).set(password=PASSWORD)
    return {
        "refused": url.set(host="127.0.0.1", port=1).render_as_string(hide_password=False),
        "missing": url.set(database="mt_no_such_db").render_as_string(hide_password=False),
    }


def _config(tmp_path: Path, state_db: str) -> Path:
    tree = {
        "state_db": state_db,
        "sources": {"logs": {"url": f"sqlite:///{tmp_path / 'logs.db'}"}},
        "models": [model_dict()],
    }
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0] if c[0] != "db" else "db-upgrade")
def test_a_state_db_that_cannot_be_used_is_one_error_line_and_exit_two(
    backend: str, db_url: str, tmp_path: Path, command: list[str]
) -> None:
    for kind, url in _down_urls(backend, db_url, tmp_path).items():
        path = _config(tmp_path, url)
        proc = subprocess.run(
            [sys.executable, "-m", "monitor", *command, "-c", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, (kind, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, (kind, proc.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: state DB "), (kind, lines)
        assert PASSWORD not in proc.stderr + proc.stdout
        shown = make_url(url).render_as_string(hide_password=True)
        assert lines[0].startswith(f"error: state DB {shown}: "), (kind, lines)
        assert len(lines[0]) > len(f"error: state DB {shown}: ") + 5  # a reason follows


@pytest.mark.parametrize(
    "command",
    [["status"], ["status", "--json"], ["alerts"], ["alerts", "show", "1"], COMMANDS[2]],
    ids=" ".join,
)
def test_a_state_db_without_tables_says_to_run_db_upgrade(
    backend: str, db_url: str, tmp_path: Path, command: list[str]
) -> None:
    """The commands on a Core connection learn that the tables are missing from their first
    statement's failure, and say what to run, as the ORM commands do."""
    if backend == "sqlite":
        sqlite3.connect(make_url(db_url).database or "").execute("VACUUM").connection.close()
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", *command, "-c", str(_config(tmp_path, db_url))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    expected = "error: the state DB has no tables yet: run `monitor db upgrade`"
    assert proc.stderr.strip() == expected
