"""The status report as a terminal table (optionally coloured) and as Markdown."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.status.text import plain_number
from monitor.views import (
    AlertCounts,
    CheckResolutions,
    DataDrift,
    EstimatedPerformance,
    FailedAttempt,
    JsonObject,
    ModelDrift,
    ModelStatus,
    PerformanceMetric,
    StatusReport,
    Throughput,
)

MARKS = {"green": "[green] ", "yellow": "[yellow]", "red": "[red]   "}
ANSI = {"green": "\033[32m", "yellow": "\033[33m", "red": "\033[31m"}
BOLD, RESET = "\033[1m", "\033[0m"
COLUMNS = ("model", "health", "reason", "alerts (open/unacked)", "last scan", "next scan")


def render_text(report: StatusReport, *, colour: bool = False) -> str:
    """A summary table of every model, then each model's details and action items."""
    if not report.models:
        return "no models configured"
    blocks = [_table(report.models, colour)]
    blocks += [_model(m, colour) for m in report.models]
    trouble = _delivery(report)
    if trouble:
        blocks.append("\n".join(["Delivery trouble:", *(f"  {line}" for line in trouble)]))
    return "\n\n".join(blocks)


def _delivery(report: StatusReport) -> list[str]:
    """Each notifier not delivering cleanly, then each notification it refused for good."""
    lines = []
    for d in report.delivery:
        if d.status == "ok":
            continue
        lines.append(
            f"{d.name}: {d.failed} refused for good, {d.retrying} retrying"
            + (f" (last error: {d.last_error})" if d.last_error else "")
        )
        lines += [f"  {problem}" for problem in d.problems]
    return lines


def _table(models: list[ModelStatus], colour: bool) -> str:
    rows = [[str(c) for c in COLUMNS]] + [_row(m) for m in models]
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        cells = [_cut(cell, width).ljust(width) for cell, width in zip(row, widths, strict=True)]
        if colour and n > 0:
            cells[1] = _paint(cells[1], models[n - 1].health)
        elif colour:
            cells = [BOLD + c + RESET for c in cells]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _row(m: ModelStatus) -> list[str]:
    last = m.last_scan
    scan = f"#{last.id} {last.window_end} {last.status}" if last else "never"
    opened = f"{m.alerts.open}/{m.alerts.unacknowledged}"
    return [m.name, m.health, m.reason, opened, scan, m.next_scan]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _paint(text: str, health: str) -> str:
    return f"{ANSI.get(health, '')}{BOLD}{text}{RESET}"


def _model(m: ModelStatus, colour: bool) -> str:
    mark = _paint(m.health.upper(), m.health) if colour else MARKS.get(m.health, "")
    lines = [f"{mark} {m.name}: {m.reason}".strip()]
    last = m.last_scan
    if last:
        rows = last.rows
        lines.append(
            f"  last scan #{last.id}: window {last.window_start} .. {last.window_end}, "
            f"{last.status}, rows live={rows.live} labelled={rows.labelled} "
            f"reference={rows.reference}"
        )
    lines += _attempt(m.last_failed_attempt)
    lines += [f"  warning: {w}" for w in (last.warnings if last else [])]
    lines.append(f"  next scan: {m.next_scan}")
    lines += _retraining(m)
    lines += _alerts(m.alerts)
    lines += _performance(m.performance or {})
    lines += _estimates(m.estimates)
    lines += _operations(m.operations, m.throughput)
    lines += _drift(m.data_drift)
    lines += _model_drift(m.model_drift)
    lines += [f"  - {item}" for item in m.action_items]
    return "\n".join(lines)


def _attempt(attempt: FailedAttempt | None) -> list[str]:
    if not attempt:
        return []
    return [
        f"  last attempt failed at {_minute(attempt.finished_at)} (window ending "
        f"{attempt.window_end}): {attempt.error}; the results of scan "
        f"#{attempt.kept_scan_id} are kept"
    ]


def _alerts(alerts: AlertCounts) -> list[str]:
    judged = [
        f"  {r.count} of the last {c.last} alerts of {c.check_id} were marked {r.label}"
        for c in alerts.resolutions
        for r in _judgements(c)
    ]
    if not alerts.open:
        return judged
    since = alerts.oldest_unacknowledged_since
    unacked = f", {alerts.unacknowledged} unacknowledged" if alerts.unacknowledged else ""
    oldest = f" (oldest since {_minute(since)})" if since else ""
    return [f"  alerts: {alerts.open} open{unacked}{oldest}; see `monitor alerts`", *judged]


@dataclass(frozen=True)
class _Judgement:
    count: int
    label: str


def _judgements(c: CheckResolutions) -> list[_Judgement]:
    """The judgements worth tuning a threshold for: false positives, then expected ones."""
    pairs = [(c.false_positive, "false positive"), (c.expected, "expected")]
    return [_Judgement(n, label) for n, label in pairs if n]


def _minute(iso: str) -> str:
    """``2026-03-05T10:15:42.123456Z`` as ``2026-03-05 10:15Z`` (text output only)."""
    from datetime import datetime

    try:
        return f"{datetime.fromisoformat(iso.replace('Z', '+00:00')):%Y-%m-%d %H:%M}Z"
    except ValueError:
        return iso


def _performance(perf: dict[str, PerformanceMetric]) -> list[str]:
    shown = []
    for name, p in perf.items():
        if p.threshold is None and name != "accuracy":
            continue
        baseline = "" if p.baseline is None else f" (reference {_num(p.baseline)})"
        verdict = {True: "pass", False: "FAIL", None: ""}[p.passed]
        change = "" if p.change_percent is None else f" {p.change_percent:+.1f}%"
        shown.append(f"  {name}: {_num(p.value)}{baseline}{change} {verdict}".rstrip())
    return shown


def _retraining(m: ModelStatus) -> list[str]:
    line = retraining_line(m)
    return [f"  {line}"] if line else []


def retraining_line(m: ModelStatus) -> str | None:
    """``last retraining: ...; next retraining: ...``, or None when neither is known (the
    status text, its Markdown and the Slack digest)."""
    last = m.last_retraining
    if last is None and m.next_retraining is None:
        return None
    shown = "none recorded"
    if last is not None:
        version = f" (version {last.version})" if last.version else ""
        shown = f"{last.retrained_at}{version}"
    return f"last retraining: {shown}; next retraining: {m.next_retraining or 'not scheduled'}"


#: windows of estimated performance shown by the text report (the JSON has 30)
ESTIMATED_WINDOWS = 3
#: segments whose latest estimates the text shows (all of them in --json)
ESTIMATED_SEGMENTS = 10


def _estimates(est: EstimatedPerformance | None) -> list[str]:
    """The latest windows' estimates (realised once their labels are in), then how far the
    estimates were from the realised values so far."""
    if est is None:
        return []
    lines = []
    for window in est.recent[:ESTIMATED_WINDOWS]:
        texts = "; ".join(v.text for v in window.metrics.values())
        lines.append(f"  window ending {_minute(window.window_end)}: {texts}")
    tracked = [
        f"{name} {e.mean_abs_error:.3f} over {e.windows} windows"
        for name, e in est.error.items()
        if e.mean_abs_error is not None
    ]
    if tracked:
        lines.append(f"  estimation error (mean |realised - estimated|): {', '.join(tracked)}")
    for segment, part in list(est.segments.items())[:ESTIMATED_SEGMENTS]:
        if part.recent:
            texts = "; ".join(v.text for v in part.recent[0].metrics.values())
            lines.append(f"  segment {segment}, latest window: {texts}")
    if len(est.segments) > ESTIMATED_SEGMENTS:
        lines.append(f"  and {len(est.segments) - ESTIMATED_SEGMENTS} more segments (--json)")
    return lines


def _operations(ops: JsonObject | None, rate: Throughput | None) -> list[str]:
    if not ops:
        return []
    p50, p99 = (_number(ops.get(key)) for key in ("latency_p50", "latency_p99"))
    unit = {"hour": "h"}.get(rate.unit, rate.unit) if rate else ""
    speed = "n/a" if rate is None else f"{_num(rate.value)} rows/{unit}"
    return [
        f"  latency p50 {_num(p50)} ms, p99 {_num(p99)} ms;"
        f" throughput {speed}; rows {ops.get('row_count')}"
    ]


def _number(value: object) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _drift(drift: DataDrift | None) -> list[str]:
    if not drift or drift.share is None:
        return []
    columns = drift.columns
    unjudged = sum(c.drifted is None for c in columns)
    if columns and unjudged == len(columns):
        return [f"  data drift: not judged, insufficient data in all {unjudged} features"]
    drifted = [c for c in columns if c.drifted]
    drifted.sort(key=lambda c: -(c.score or 0))
    listed = ", ".join(f"{c.column} ({c.method} {_num(c.score)})" for c in drifted)
    note = f" ({unjudged} not judged: insufficient data)" if unjudged else ""
    return [
        f"  data drift: {drift.share:.0%} of features drifted{note}"
        f"{': ' + listed if listed else ''}"
    ]


def _model_drift(drift: ModelDrift | None) -> list[str]:
    if not drift:
        return []
    changes = ", ".join(
        f"{k} {v:+.3f}"
        + (f" ({pct:+.1f}%)" if (pct := drift.degradation_percent.get(k)) is not None else "")
        for k, v in drift.degradation.items()
    )
    verdict = "yes" if drift.detected else "no"
    return [f"  model drift: {verdict}{' (' + changes + ' vs reference)' if changes else ''}"]


def _num(value: float | None) -> str:
    return plain_number(value)


def render_markdown(report: StatusReport) -> str:
    """A summary table and a section per model, for a pull request, a wiki page or a chat."""
    lines = [
        f"# Model health ({report.generated_at})",
        "",
        "| model | health | reason | last window end | status | live | labelled |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in report.models:
        lines.append(f"| {m.name} | {m.health} | {_md(m.reason)} | {_last_cells(m)} |")
    for m in report.models:
        lines += ["", f"## {m.name}: {m.health}", ""]
        lines += [f"- {line.strip()}" for line in _details(m)]
        if m.action_items:
            lines += ["", "Action items:", ""]
            lines += [f"1. {_md(item)}" for item in m.action_items]
    trouble = _delivery(report)
    if trouble:
        lines += ["", "## Delivery trouble", ""]
        lines += [f"- {_md(line.strip())}" for line in trouble]
    return "\n".join(lines)


def _last_cells(m: ModelStatus) -> str:
    """Window end, status, live and labelled rows of the last scan (empty cells: none)."""
    last = m.last_scan
    if last is None:
        return " |  |  | "
    return f"{last.window_end} | {last.status} | {last.rows.live} | {last.rows.labelled}"


def _details(m: ModelStatus) -> list[str]:
    return [
        f"next scan: {m.next_scan}",
        *_retraining(m),
        *_alerts(m.alerts),
        *_performance(m.performance or {}),
        *_estimates(m.estimates),
        *_operations(m.operations, m.throughput),
        *_drift(m.data_drift),
        *_model_drift(m.model_drift),
    ]


def _md(text: str) -> str:
    return text.replace("|", "\\|")
