from __future__ import annotations

import subprocess
import sys


def test_monitor_help_lists_commands_and_exits_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout
