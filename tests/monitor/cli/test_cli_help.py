from __future__ import annotations

import subprocess
import sys
from typing import Any


def test_monitor_help_lists_commands_and_exits_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout


def test_help_shows_flags_without_a_value_type() -> None:
    import typer
    from typer.testing import CliRunner

    from monitor.cli import build_app

    flags = 0
    for name, command in _commands(typer.main.get_command(build_app()), ()):
        shown = CliRunner().invoke(build_app(), [*name, "--help"], env={"COLUMNS": "100"})
        assert shown.exit_code == 0, (name, shown.output)
        for param in command.params:
            if getattr(param, "is_flag", False) and not getattr(param, "hidden", False):
                line = next(x for x in shown.output.splitlines() if param.opts[-1] in x)
                assert "<bool>" not in line, (name, line)
                flags += 1
    assert flags >= 10  # --json, --all, --list, --past... : the walk did reach the commands


def _commands(group: Any, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group under ``group`` (typer's own click) by its argv path."""
    found: list[tuple[tuple[str, ...], Any]] = []
    for name, command in getattr(group, "commands", {}).items():
        found += [((*prefix, name), command), *_commands(command, (*prefix, name))]
    return found
