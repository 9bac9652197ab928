"""The words of a drift result, read from its stored ``details``: importable without numpy.

``monitor status``, ``monitor alerts`` and the notifiers word results that were computed
earlier; importing :mod:`checks.drift` for that would load numpy, scipy and pandas on every
CLI call (``tests/monitor/cli/test_cli_import_budget.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def effect_phrase(details: Mapping[str, Any] | None) -> str | None:
    """The effect a result's ``details`` carry ("income: mean +0.31 sd"), read first in every
    text (status, scan lines, alerts); None when the check has none."""
    effect = (details or {}).get("effect")
    phrase = effect.get("phrase") if isinstance(effect, Mapping) else None
    return phrase if isinstance(phrase, str) else None


def threshold_how(details: Mapping[str, Any] | None) -> str:
    """How a drift result's threshold was obtained: the calibration's own account ("ad >
    6.517: 99.88th percentile of 4000 resampled windows of 2000 rows (1% of scans over 8
    columns)"), or Evidently mode's fixed threshold."""
    calibration = (details or {}).get("calibration")
    how = calibration.get("how") if isinstance(calibration, Mapping) else None
    if isinstance(how, str):
        return f"calibrated: {how}"
    how = (details or {}).get("how")  # dataset drift's rule in calibrated mode
    return str(how) if isinstance(how, str) else "Evidently mode's fixed threshold"
