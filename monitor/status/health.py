"""A model's health colour from its current alert conditions, staleness and open alerts.

DESIGN.md: any critical condition active, or data stale for more than 3 intervals -> red;
any warning condition, stale data, or a ``scan_error`` alert open -> yellow; else green.
With ``sticky_health``, open unacknowledged alerts keep their severity's colour until
acknowledged. Conditions are the debounced states the alert layer keeps, so a single noisy
window under ``raise_after: 2`` does not change the colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from monitor.alerts.queries import AlertCounts
from monitor.config.schema import ModelConfig
from monitor.status.text import describe
from monitor.store import WHOLE_WINDOW
from monitor.store.rows import AlertConditionRow, AlertRow, CheckResultRow, ScanRow, result_of
from monitor.store.tables import OPEN_STATES
from monitor.views import Health
from monitor.windows import isoformat_z

STALE_RED_INTERVALS = 3
COLOURS: dict[str, Health] = {"critical": "red", "warning": "yellow"}


def model_health(
    model: ModelConfig,
    *,
    judged: ScanRow | None,
    last: ScanRow | None,
    counts: AlertCounts,
    conditions: Sequence[AlertConditionRow],
    open_alerts: Sequence[AlertRow],
    results: Sequence[CheckResultRow] = (),
    step: timedelta,
    now: datetime,
    failure: str | None = None,
) -> tuple[Health, str]:
    """``(colour, reason)``; ``judged`` is the latest scan that did not end in error,
    ``failure`` the error of a later run that failed beside kept results, if any;
    ``conditions`` and ``open_alerts`` are the model's rows, ``results`` judged's results
    (those of its alerting conditions at least)."""
    if judged is None:
        return "red", "never scanned successfully"
    late = now - judged.window_end
    if late > STALE_RED_INTERVALS * step:
        return "red", f"stale: no successful scan since {isoformat_z(judged.window_end)}"
    active = [
        c
        for c in conditions
        if c.state in COLOURS and c.check_id != "stale"  # staleness is judged right here
    ]
    for level in ("critical", "warning"):
        found = sorted(
            (c for c in active if c.state == level), key=lambda c: c.segment != WHOLE_WINDOW
        )
        if found:
            return COLOURS[level], _reason(found[0], results, last, failure)
        if model.alerts.sticky_health and counts.worst_unacknowledged == level:
            return COLOURS[level], f"{counts.unacknowledged} unacknowledged alert(s)"
    scan_error = _open_scan_error(open_alerts)
    if scan_error is not None:
        # DESIGN.md: an open scan_error alert is yellow even once scans run again, until
        # someone closes it (the cause may come back).
        return "yellow", f"scan_error alert #{scan_error.id} is open ({scan_error.state})"
    if late > 2 * step:
        return "yellow", f"stale: no successful scan since {isoformat_z(judged.window_end)}"
    if judged.status == "no_data":
        return "yellow", "no rows in the live window"
    return "green", "all checks pass"


def _open_scan_error(open_alerts: Sequence[AlertRow]) -> AlertRow | None:
    return next(
        (a for a in open_alerts if a.check_id == "scan_error" and a.state in OPEN_STATES), None
    )


def _reason(
    condition: AlertConditionRow,
    results: Sequence[CheckResultRow],
    last: ScanRow | None,
    failure: str | None,
) -> str:
    if condition.check_id == "scan_error" and last is not None:
        return f"scans keep failing ({condition.state}): {failure or last.error}"
    result = result_of(results, condition.check_id, condition.segment)
    if result is not None and result.passed is False:
        return describe(result)
    where = f" [segment {condition.segment}]" if condition.segment else ""
    return f"{condition.check_id}{where} ({condition.state})"
