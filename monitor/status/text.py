"""Plain-language lines of the status report: why a check failed and what to do about it."""

from __future__ import annotations

from checks.phrases import effect_phrase
from monitor import views
from monitor.config.schema import (
    CLASSIFICATION_METRICS,
    LATENCY_METRICS,
    REGRESSION_METRICS,
    ModelConfig,
)
from monitor.store.rows import CheckResultRow, ScanAttemptRow, ScanRow
from monitor.windows import isoformat_z


def describe(result: CheckResultRow) -> str:
    """``accuracy 0.74 < 0.80 (critical)``; segment results name their segment."""
    where = f" [segment {result.segment}]" if result.segment else ""
    severity = f" ({result.severity})" if result.severity else ""
    return f"{_finding(result)}{where}{severity}"


def _finding(result: CheckResultRow) -> str:
    check = result.check
    if check == "dataset_drift":
        drifted = ", ".join(result.details.get("drifted", [])) or "none"
        text = f"dataset drift: {plain_number(result.value)} of features drifted ({drifted})"
        effects = "; ".join(result.details.get("effects", []))
        return f"{effects} ({text})" if effects else text
    if check.startswith("drift:") or check in {"prediction_drift", "target_drift"}:
        value, threshold = plain_number(result.value), plain_number(result.threshold)
        text = f"{check} {result.method} {value} (threshold {threshold})"
        return f"{phrase}: {text}" if (phrase := effect_phrase(result.details)) else text
    if check.startswith("missing_share:") and "reference" not in result.details:
        return f"{check} {plain_number(result.value)} > {plain_number(result.threshold)}"
    if result.value is not None and result.threshold is not None:
        op = "<" if _is_floor(result) else ">"
        return f"{check} {plain_number(result.value)} {op} {plain_number(result.threshold)}"
    return result.reason or check


def _is_floor(result: CheckResultRow) -> bool:
    return "max" not in result.method.split("+") or "max_drop" in result.method


def plain_number(value: float | None) -> str:
    """As the dashboard shows numbers: whole ones exactly (``2314`` rows), others to three
    significant digits without an exponent (``1040``, ``0.0077``) below a million."""
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{float(f'{value:.3g}'):g}"


def action_items(
    model: ModelConfig,
    last: ScanRow | None,
    whole: list[CheckResultRow],
    *,
    attempt: ScanAttemptRow | None = None,
) -> list[views.ActionItem]:
    """What an on-call person should look at, worst first, each with what it is about."""
    if last is None:
        return [_item(f"Run `monitor scan {model.name}` (no scan stored yet)", "no_scan")]
    items = []
    if last.status == "error":
        items.append(_item(f"Fix the scan error: {last.error}", "scan_error"))
    if attempt is not None:
        kept = f"scan #{attempt.scan_id} of the window ending {isoformat_z(attempt.window_end)}"
        text = f"Fix the scan error: {attempt.error} (the results of {kept} are kept)"
        items.append(_item(text, "scan_error"))
    if last.status == "no_data":
        items.append(
            _item("No rows in the live window: check that predictions are being logged", "no_data")
        )
    failing = sorted(
        (r for r in whole if r.passed is False and r.severity),
        key=lambda r: r.severity != "critical",
    )
    items += [
        _item(_advice(r), "check", severity=r.severity, check_id=r.check, segment=r.segment)
        for r in failing
    ]
    unique: dict[str, views.ActionItem] = {}
    for item in items:
        unique.setdefault(item.text, item)
    return list(unique.values())


def _item(text: str, kind: str, **about: str | None) -> views.ActionItem:
    return views.ActionItem.model_validate(
        {"text": text, "kind": kind, **{k: v or None for k, v in about.items()}}
    )


def _advice(result: CheckResultRow) -> str:
    check = result.check.split(":", 1)[0]
    finding = describe(result)
    if check in CLASSIFICATION_METRICS + REGRESSION_METRICS:
        return f"{finding}: compare recent labels with the reference; consider retraining"
    if check == "dataset_drift":
        return f"{finding}: investigate the upstream data of the drifted features"
    if check == "drift":
        return f"{finding}: investigate this feature's upstream data"
    if check in {"prediction_drift", "target_drift"}:
        return f"{finding}: the model's outputs or outcomes shifted; check performance"
    if check == "missing_share":
        return f"{finding}: more missing values than in the reference; check the pipeline"
    if check in LATENCY_METRICS:
        return f"{finding}: check the serving infrastructure"
    if check in {"row_count", "throughput"}:
        return f"{finding}: traffic changed; check the logging pipeline and callers"
    return finding
