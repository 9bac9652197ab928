"""Per-model status report in the JSON shape DESIGN.md fixes (``monitor status --json``).

Health here comes from the latest scan's stored results and from staleness: a failing
critical check or data stale for more than 3 intervals is red; a failing warning check,
stale data, an empty live window or 3 errored scans in a row is yellow. The alerts work
refines this with debounced conditions and sticky alerts; ``alerts`` stays null until then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from monitor.config.schema import Config, ModelConfig
from monitor.models import WHOLE_WINDOW, CheckResult, Scan
from monitor.status_text import action_items, describe
from monitor.windows import Cron, Every, isoformat_z

ERRORS_FOR_YELLOW = 3
STALE_RED_INTERVALS = 3


def status_report(
    config: Config, *, session: Session, now: datetime, models: list[str] | None = None
) -> dict[str, Any]:
    chosen = [config.model(name) for name in models] if models else config.models
    return {
        "generated_at": isoformat_z(now),
        "models": [model_status(m, session=session, now=now) for m in chosen],
    }


def model_status(model: ModelConfig, *, session: Session, now: datetime) -> dict[str, Any]:
    scans = _recent_scans(model.name, session=session)
    last = scans[0] if scans else None
    judged = next((s for s in scans if s.status != "error"), None)
    health, reason = _health(model, scans, judged, now)
    whole = [r for r in judged.results if r.segment == WHOLE_WINDOW] if judged else []
    return {
        "name": model.name,
        "health": health,
        "reason": reason,
        "last_scan": _scan_summary(last),
        "next_scan": isoformat_z(next_scan(model, now)),
        "performance": _performance(judged, whole),
        "operations": (judged.metrics or {}).get("operations") if judged else None,
        "data_drift": _data_drift(whole) if judged else None,
        "model_drift": _model_drift(judged, whole) if judged else None,
        "alerts": {"open": None, "unacknowledged": None, "oldest_unacknowledged_since": None},
        "action_items": action_items(model, last, whole),
    }


def _recent_scans(model: str, *, session: Session, limit: int = 10) -> list[Scan]:
    stmt = (
        select(Scan)
        .where(Scan.model == model)
        .order_by(Scan.window_end.desc())
        .limit(limit)
        .options(selectinload(Scan.results))
    )
    return list(session.scalars(stmt))


def interval(model: ModelConfig, now: datetime) -> timedelta:
    grid = model.grid
    if isinstance(grid, Every):
        return grid.interval
    return next_scan(model, now) - grid.latest(now)


def next_scan(model: ModelConfig, now: datetime) -> datetime:
    grid = model.grid
    if isinstance(grid, Every):
        return grid.latest(now) + grid.interval
    assert isinstance(grid, Cron)
    return next(grid.between(now + timedelta(seconds=1), now + timedelta(days=367)))


def _health(
    model: ModelConfig, scans: list[Scan], judged: Scan | None, now: datetime
) -> tuple[str, str]:
    step = interval(model, now)
    if judged is None:
        return "red", "never scanned successfully"
    # The scan at window_end W is due at W; stale once a whole interval (plus one) passes.
    late = now - judged.window_end
    if late > STALE_RED_INTERVALS * step:
        return "red", f"stale: last successful scan's window ended {isoformat_z(judged.window_end)}"
    failing = [r for r in judged.results if r.passed is False and r.severity]
    for level, colour in (("critical", "red"), ("warning", "yellow")):
        worst = [r for r in failing if r.severity == level]
        if worst:
            return colour, describe(_whole_first(worst))
    if late > 2 * step:
        return "yellow", f"stale: no scan since {isoformat_z(judged.window_end)}"
    if sum(1 for _ in _leading_errors(scans)) >= ERRORS_FOR_YELLOW:
        return "yellow", f"{ERRORS_FOR_YELLOW} scans in a row ended in error: {scans[0].error}"
    if judged.status == "no_data":
        return "yellow", "no rows in the live window"
    return "green", "all checks pass"


def _leading_errors(scans: list[Scan]) -> list[Scan]:
    errors = []
    for scan in scans:
        if scan.status != "error":
            break
        errors.append(scan)
    return errors


def _whole_first(results: list[CheckResult]) -> CheckResult:
    return sorted(results, key=lambda r: (r.segment != WHOLE_WINDOW, r.id or 0))[0]


def _scan_summary(scan: Scan | None) -> dict[str, Any] | None:
    if scan is None:
        return None
    return {
        "id": scan.id,
        "window_start": isoformat_z(scan.window_start),
        "window_end": isoformat_z(scan.window_end),
        "status": scan.status,
        "error": scan.error,
        "rows": {
            "reference": scan.rows_reference,
            "live": scan.rows_live,
            "labelled": scan.rows_labelled,
        },
    }


def _performance(scan: Scan | None, whole: list[CheckResult]) -> dict[str, Any] | None:
    if scan is None:
        return None
    observed = (scan.metrics or {}).get("performance", {})
    checks = {r.check: r for r in whole}
    report = {}
    for name, seen in observed.items():
        result = checks.get(name)
        report[name] = {
            "value": seen.get("value"),
            "baseline": seen.get("baseline"),
            "threshold": result.threshold if result else None,
            "passed": result.passed if result else None,
            "labelled": seen.get("labelled"),
        }
    return report


def _data_drift(whole: list[CheckResult]) -> dict[str, Any]:
    dataset = next((r for r in whole if r.check == "dataset_drift"), None)
    columns = [
        {
            "column": r.check.removeprefix("drift:"),
            "method": r.method,
            "score": r.value,
            "drifted": None if r.passed is None else not r.passed,
        }
        for r in whole
        if r.check.startswith("drift:")
    ]
    return {
        "detected": None if dataset is None or dataset.passed is None else not dataset.passed,
        "share": dataset.value if dataset else None,
        "columns": columns,
    }


def _model_drift(scan: Scan, whole: list[CheckResult]) -> dict[str, Any]:
    observed = (scan.metrics or {}).get("performance", {})
    degradation = {
        name: seen["value"] - seen["baseline"]
        for name, seen in observed.items()
        if seen.get("value") is not None and seen.get("baseline") is not None
    }
    prediction = next((r for r in whole if r.check == "prediction_drift"), None)
    performance_failed = any(r.check in observed and r.passed is False for r in whole)
    shifted = prediction is not None and prediction.passed is False
    return {"detected": performance_failed or shifted, "degradation": degradation}
