"""``monitor maintenance``: plan, list and cancel from a terminal (issue 15 item 6)."""

from __future__ import annotations

import json
import re

import pytest

from tests.monitor.alerts.test_cli import _run, config_file  # noqa: F401 (fixture)


def test_plan_list_and_cancel_from_the_cli(
    config_file: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(
        capsys,
        "maintenance",
        "churn",
        "--from",
        "2099-01-01T08:00",
        "--to",
        "2099-01-01T12:00",
        "--reason",
        "retraining",
        "--by",
        "ops",
        "-c",
        config_file,
    )
    assert code == 0, err
    assert "churn  2099-01-01T08:00:00Z .. 2099-01-01T12:00:00Z  planned  by ops: retraining" in out
    code, out, _ = _run(capsys, "maintenance", "--list", "--json", "-c", config_file)
    [window] = json.loads(out)
    assert (window["model"], window["active"]) == ("churn", False)
    code, out, _ = _run(
        capsys, "maintenance", "--cancel", str(window["id"]), "--by", "ana", "-c", config_file
    )
    assert code == 0 and f"maintenance window {window['id']} of churn cancelled by ana" in out
    code, out, _ = _run(capsys, "maintenance", "--list", "-c", config_file)
    assert out.strip() == "no maintenance windows"
    # --past keeps the planned times and shows the cancel beside them (audit of issue 15)
    code, out, _ = _run(capsys, "maintenance", "--list", "--past", "-c", config_file)
    assert re.search(
        r"churn  2099-01-01T08:00:00Z \.\. 2099-01-01T12:00:00Z  "
        r"cancelled at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ by ana, planned  by ops: retraining$",
        out.strip(),
    ), out


def test_unknown_model_and_missing_end_are_named(
    config_file: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(
        capsys, "maintenance", "nope", "--for", "2h", "--by", "a", "-c", config_file
    )
    assert code != 0 and "nope" in err
    code, _, err = _run(capsys, "maintenance", "churn", "--by", "a", "-c", config_file)
    assert code != 0 and "give --to TIME or --for DURATION" in err
