"""``monitor alerts|ack|unack|snooze|resolve|silence`` against a migrated state DB."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from monitor import views
from monitor.cli import main
from monitor.store import Alert, Silence, make_sessionmaker, migrate
from tests.monitor.alerts.conftest import failing, run_scan
from tests.monitor.alerts.test_wiring import CONFIG


@pytest.fixture
def config_file(db_url: str, engine: Engine, tmp_path: Path) -> str:
    migrate.upgrade(db_url)
    tree = copy.deepcopy(CONFIG)
    del tree["slack"]  # the console notifier
    tree["state_db"] = db_url
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    # The CLI acts at the real time: the scan happened a day before it.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    run_scan(make_sessionmaker(engine), yesterday, [failing("accuracy"), failing("row_count")])
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ack_from_the_cli_acknowledges_and_prints_the_edited_message(
    config_file: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "ack", "1", "--by", "alice", "--note", "retraining", "-c", config_file
    )
    assert code == 0 and "acknowledged" in out and "by alice" in out
    assert "acknowledged by alice" in err  # the console notifier shows the Slack edit
    with make_sessionmaker(engine)() as session:
        alert = session.get_one(Alert, 1)
    assert (alert.state, alert.acked_by, alert.ack_note) == ("acknowledged", "alice", "retraining")


def test_alerts_json_lists_by_state(config_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "resolve", "2", "--by", "bob", "-c", config_file)
    code, out, _ = _run(capsys, "alerts", "--state", "resolved", "--json", "-c", config_file)
    assert code == 0
    listed = json.loads(out)
    assert [views.Alert.model_validate(a).as_json() for a in listed] == listed
    assert [(a["id"], a["state"], a["resolved_by"]) for a in listed] == [(2, "resolved", "bob")]
    _, table, _ = _run(capsys, "alerts", "-c", config_file)
    assert table.splitlines()[0].split()[:3] == ["1", "firing", "warning"]


def test_alerts_text_lines_up_in_columns(
    config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "ack", "2", "--by", "alice", "-c", config_file)
    code, out, _ = _run(capsys, "alerts", "-c", config_file)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    # Every column starts at the same offset on both lines, whatever the check's name.
    for word in ("since", "x1"):
        assert len({line.index(f" {word}") for line in lines}) == 1, out
    assert "by alice" in out and "acknowledged" in out


def test_cli_errors_are_one_line_with_exit_code_2(
    config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "ack", "99", "--by", "alice", "-c", config_file)
    assert (code, err.strip()) == (2, "error: alert 99 does not exist")
    code, _, err = _run(capsys, "snooze", "1", "--for", "8d", "--by", "a", "-c", config_file)
    assert code == 2 and "at most 7 days" in err
    code, _, err = _run(capsys, "alerts", "--state", "bogus", "-c", config_file)
    assert code == 2 and "unknown alert state 'bogus'" in err
    code, _, err = _run(capsys, "silence", "nope", "--for", "2h", "--by", "a", "-c", config_file)
    assert code == 2 and "unknown model 'nope'" in err


def test_silence_from_the_cli_stores_a_silence(
    config_file: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys,
        "silence",
        "churn",
        "--for",
        "2h",
        "--by",
        "ops",
        "--reason",
        "retraining",
        "-c",
        config_file,
    )
    assert code == 0 and "silenced until" in out
    with make_sessionmaker(engine)() as session:
        made = session.query(Silence).one()
    assert (made.model, made.created_by, made.reason) == ("churn", "ops", "retraining")
    assert made.ends_at - made.starts_at == timedelta(hours=2)
