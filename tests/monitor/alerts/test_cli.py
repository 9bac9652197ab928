"""``monitor alerts|ack|unack|snooze|resolve|silence`` against a migrated state DB."""

from __future__ import annotations

import copy
import json
import re
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
    assert table.splitlines()[1].split()[:3] == ["1", "firing", "warning"]


def test_alerts_text_lines_up_in_columns(
    config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "ack", "2", "--by", "alice", "-c", config_file)
    code, out, _ = _run(capsys, "alerts", "-c", config_file)
    header, *lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert header.split() == [
        "ID", "STATE", "SEVERITY", "MODEL", "CHECK", "ACKED", "BY", "SINCE", "(data", "time)",
        "FIRED", "SUMMARY",
    ]  # fmt: skip
    # Every column starts where its header does, whatever the check's name.
    since, fired = header.index("SINCE"), header.index("FIRED")
    for line in lines:
        assert line[since : since + 2] == "20" and line[fired : fired + 3] == "1x ", out
        assert line[header.index("STATE") - 1] == " " != line[header.index("STATE")]
    assert "alice" in out and "acknowledged" in out


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


def test_ack_takes_several_ids_and_reports_each(
    config_file: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "ack", "1", "2", "--by", "me", "-c", config_file)
    assert code == 0, out
    assert out.count("acknowledged (firing -> acknowledged") == 2
    with make_sessionmaker(engine)() as session:
        states = [(a.id, a.state, a.acked_by) for a in session.query(Alert).order_by(Alert.id)]
    assert states == [(1, "acknowledged", "me"), (2, "acknowledged", "me")]


def test_ack_of_several_ids_acks_the_good_ones_and_fails_on_the_bad(
    config_file: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "ack", "1", "99", "2", "--by", "me", "-c", config_file)
    assert code == 2 and err.splitlines()[-1] == "error: alert 99 does not exist"
    with make_sessionmaker(engine)() as session:
        assert {a.state for a in session.query(Alert)} == {"acknowledged"}


def test_ack_all_of_a_model_and_check(
    config_file: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = _run(
        capsys, "ack", "--model", "churn", "--check", "row_count", "--all", "--by", "me",
        "-c", config_file,
    )  # fmt: skip
    assert code == 0
    with make_sessionmaker(engine)() as session:
        states = {a.check_id: a.state for a in session.query(Alert)}
    assert states == {"accuracy": "firing", "row_count": "acknowledged"}
    code, _, _ = _run(capsys, "ack", "--model", "churn", "--all", "--by", "me", "-c", config_file)
    with make_sessionmaker(engine)() as session:
        assert {a.state for a in session.query(Alert)} == {"acknowledged"}
    code, out, _ = _run(capsys, "ack", "--model", "churn", "--all", "--by", "me", "-c", config_file)
    assert (code, out.strip()) == (0, "no unacknowledged alerts of churn")


def test_ack_needs_ids_or_model_all(config_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "ack", "--by", "me", "-c", config_file)
    assert code == 2 and "give alert ids, or --model M [--check C] --all" in err
    code, _, err = _run(capsys, "ack", "--all", "--by", "me", "-c", config_file)
    assert code == 2 and "--all needs --model" in err
    code, _, err = _run(capsys, "ack", "--model", "nope", "--all", "--by", "x", "-c", config_file)
    assert code == 2 and "unknown model 'nope'" in err


def test_alerts_filters_by_check_segment_and_since(
    config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def ids(*args: str) -> list[int]:
        code, out, err = _run(capsys, "alerts", "--json", "-c", config_file, *args)
        assert code == 0, err
        return [a["id"] for a in json.loads(out)]

    assert ids() == [2, 1]
    assert ids("--check", "accuracy") == [1]
    assert ids("--model", "churn", "--check", "row_count") == [2]
    assert ids("--segment", "") == [2, 1]
    assert ids("--segment", "north") == []
    code, out, _ = _run(capsys, "alerts", "--state", "all", "--segment", "north", "-c", config_file)
    assert (code, out) == (0, "no alerts (state all, segment 'north')\n")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert ids("--since", (yesterday - timedelta(hours=1)).isoformat()) == [2, 1]
    assert ids("--since", (yesterday + timedelta(hours=1)).isoformat()) == []


def test_alerts_show_prints_the_alert_and_its_whole_history(
    config_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "ack", "1", "--by", "alice", "--note", "retraining", "-c", config_file)
    code, out, err = _run(capsys, "alerts", "show", "1", "-c", config_file)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["ID", "STATE"]
    assert lines[1].split()[:3] == ["1", "acknowledged", "warning"]
    events = [line.split()[1] for line in lines if line.startswith("  20")]
    assert events == ["raised", "acknowledged"]
    assert "retraining" in out
    # every time to the second, so the event lines line up: the acknowledgement's wall-clock
    # time has microseconds, the scan's data time has none (audit of issue 15)
    second = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    event_lines = [line for line in lines if line.startswith("  20")]
    assert all(re.match(rf"  {second}  \S", line) for line in event_lines), event_lines
    assert len({line.index(" by ") for line in event_lines}) == 1, event_lines
    [acked] = [line for line in lines if line.startswith("  acknowledged: ")]
    assert re.fullmatch(rf"  acknowledged: by alice at {second} \(retraining\)", acked), acked
    code, out, _ = _run(capsys, "alerts", "show", "1", "--json", "-c", config_file)
    shown = json.loads(out)
    assert views.AlertDetail.model_validate(shown).as_json() == shown
    assert [(e["kind"], e["actor"]) for e in shown["events"]] == [
        ("raised", "scan"),
        ("acknowledged", "alice"),
    ]
    code, _, err = _run(capsys, "alerts", "show", "99", "-c", config_file)
    assert (code, err.strip()) == (2, "error: alert 99 does not exist")


def test_resolve_takes_a_reason_that_is_stored_shown_and_counted(
    config_file: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.alerts.queries import alert_counts
    from monitor.status.render import _alerts

    code, _, err = _run(
        capsys, "resolve", "1", "--by", "bob", "--reason", "false_positive", "--note", "seasonal",
        "-c", config_file,
    )  # fmt: skip
    assert code == 0, err
    assert "Resolved by bob as false positive: seasonal" in err  # the thread reply
    _run(capsys, "resolve", "2", "--by", "bob", "-c", config_file)
    code, out, _ = _run(capsys, "alerts", "show", "1", "--json", "-c", config_file)
    shown = json.loads(out)
    assert (shown["resolution"], shown["resolve_reason"]) == ("false_positive", "manual")
    assert shown["events"][-1]["reason"] == "false_positive"
    assert shown["events"][-1]["note"] == "seasonal"
    code, out, _ = _run(capsys, "alerts", "show", "1", "-c", config_file)
    assert "resolved: by bob" in out and "(manual, false_positive)" in out
    code, _, err = _run(capsys, "resolve", "1", "--by", "b", "--reason", "meh", "-c", config_file)
    assert code == 2 and "unknown resolution 'meh'; use one of fixed, expected" in err
    with make_sessionmaker(engine)() as session:
        counts = alert_counts(session=session, model="churn").as_json()
    assert [(c.check_id, c.last, c.false_positive) for c in counts.resolutions] == [
        ("accuracy", 1, 1)
    ]
    assert _alerts(counts) == ["  1 of the last 1 alerts of accuracy were marked false positive"]


def test_status_counts_only_the_last_five_resolved_alerts_of_a_check(
    config_file: str, engine: Engine
) -> None:
    from monitor.alerts.actions import resolve
    from monitor.alerts.queries import alert_counts

    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    judged = ["false_positive", "fixed", None, "false_positive", "false_positive", "expected"]
    with sessions() as session:
        resolve(session=session, alert_id=2, by="x", now=now)
        resolve(session=session, alert_id=1, by="x", now=now, resolution=judged[0])
        session.commit()
    for i, resolution in enumerate(judged[1:], start=1):
        run_scan(sessions, now + timedelta(hours=i), [failing("accuracy")])
        with sessions() as session:
            alert_id = session.query(Alert.id).filter(Alert.state == "firing").scalar()
            assert alert_id is not None
            resolve(session=session, alert_id=alert_id, by="x", now=now, resolution=resolution)
            session.commit()
    with sessions() as session:
        [counted] = alert_counts(session=session, model="churn").resolutions
    # The last five: expected, fp, fp, None, fixed (the first false positive is older).
    assert (counted.last, counted.false_positive, counted.expected, counted.fixed) == (5, 2, 1, 1)


def test_alerts_list_and_show_name_the_failing_segments(
    config_file: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    signals = [failing("latency_p95", segment="eu"), failing("latency_p95", segment="us")]
    run_scan(make_sessionmaker(engine), yesterday, signals)
    code, out, _ = _run(capsys, "alerts", "--check", "latency_p95", "-c", config_file)
    assert code == 0 and "latency_p95 [2 segments: eu, us]" in out
    code, out, _ = _run(capsys, "alerts", "show", "3", "-c", config_file)
    assert code == 0 and "failing segments (2), worst first:" in out
    assert "  us               warning  latency_p95 0.74 < 0.80\n" in out


def test_an_unknown_model_is_an_error_naming_it_with_the_closest_name(
    config_file: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in --model must not read as "no alerts" (audit of issue 15)."""
    expected = "error: unknown model 'churm', did you mean 'churn'?; known: churn"
    code, out, err = _run(capsys, "alerts", "--model", "churm", "-c", config_file)
    assert (code, out, err.strip()) == (2, "", expected)
    code, out, err = _run(
        capsys, "ack", "--model", "churm", "--all", "--by", "x", "-c", config_file
    )
    assert (code, out, err.strip()) == (2, "", expected)
    # a model no longer configured but with alerts in the state DB is known: its history lists
    yesterday = datetime.now(UTC) - timedelta(days=1)
    run_scan(make_sessionmaker(engine), yesterday, [failing("accuracy")], model="retired")
    code, out, err = _run(capsys, "alerts", "--model", "retired", "--json", "-c", config_file)
    assert code == 0, err
    assert [a["model"] for a in json.loads(out)] == ["retired"]
    code, _, err = _run(capsys, "alerts", "--model", "retird", "-c", config_file)
    assert (code, err.strip()) == (
        2,
        "error: unknown model 'retird', did you mean 'retired'?; known: churn, retired",
    )
