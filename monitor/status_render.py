"""The status report as a terminal table (optionally coloured) and as Markdown."""

from __future__ import annotations

from typing import Any

MARKS = {"green": "[green] ", "yellow": "[yellow]", "red": "[red]   "}
ANSI = {"green": "\033[32m", "yellow": "\033[33m", "red": "\033[31m"}
BOLD, RESET = "\033[1m", "\033[0m"
COLUMNS = ("model", "health", "reason", "alerts (open/unacked)", "last scan", "next scan")


def render_text(report: dict[str, Any], *, colour: bool = False) -> str:
    """A summary table of every model, then each model's details and action items."""
    if not report["models"]:
        return "no models configured"
    blocks = [_table(report["models"], colour)]
    blocks += [_model(m, colour) for m in report["models"]]
    return "\n\n".join(blocks)


def _table(models: list[dict[str, Any]], colour: bool) -> str:
    rows = [[str(c) for c in COLUMNS]] + [_row(m) for m in models]
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        cells = [_cut(cell, width).ljust(width) for cell, width in zip(row, widths, strict=True)]
        if colour and n > 0:
            cells[1] = _paint(cells[1], models[n - 1]["health"])
        elif colour:
            cells = [BOLD + c + RESET for c in cells]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _row(m: dict[str, Any]) -> list[str]:
    alerts = m.get("alerts") or {}
    last = m.get("last_scan")
    scan = f"#{last['id']} {last['window_end']} {last['status']}" if last else "never"
    opened = f"{alerts.get('open', 0)}/{alerts.get('unacknowledged', 0)}"
    return [m["name"], m["health"], m["reason"], opened, scan, m.get("next_scan") or ""]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _paint(text: str, health: str) -> str:
    return f"{ANSI.get(health, '')}{BOLD}{text}{RESET}"


def _model(m: dict[str, Any], colour: bool) -> str:
    mark = _paint(m["health"].upper(), m["health"]) if colour else MARKS.get(m["health"], "")
    lines = [f"{mark} {m['name']}: {m['reason']}".strip()]
    last = m.get("last_scan")
    if last:
        rows = last["rows"]
        lines.append(
            f"  last scan #{last['id']}: window {last['window_start']} .. {last['window_end']}, "
            f"{last['status']}, rows live={rows['live']} labelled={rows['labelled']} "
            f"reference={rows['reference']}"
        )
    lines += _attempt(m.get("last_failed_attempt"))
    lines += [f"  warning: {w}" for w in (last or {}).get("warnings") or []]
    lines.append(f"  next scan: {m['next_scan']}")
    lines += _alerts(m.get("alerts") or {})
    lines += _performance(m.get("performance") or {})
    lines += _operations(m.get("operations"))
    lines += _drift(m.get("data_drift"))
    lines += _model_drift(m.get("model_drift"))
    lines += [f"  - {item}" for item in m.get("action_items") or []]
    return "\n".join(lines)


def _attempt(attempt: dict[str, Any] | None) -> list[str]:
    if not attempt:
        return []
    return [
        f"  last attempt failed at {_minute(attempt['finished_at'])} (window ending "
        f"{attempt['window_end']}): {attempt['error']}; the results of scan "
        f"#{attempt['kept_scan_id']} are kept"
    ]


def _alerts(alerts: dict[str, Any]) -> list[str]:
    if not alerts.get("open"):
        return []
    since = alerts.get("oldest_unacknowledged_since")
    unacked = f", {alerts['unacknowledged']} unacknowledged" if alerts.get("unacknowledged") else ""
    oldest = f" (oldest since {_minute(since)})" if since else ""
    return [f"  alerts: {alerts['open']} open{unacked}{oldest}; see `monitor alerts`"]


def _minute(iso: str) -> str:
    """``2026-03-05T10:15:42.123456Z`` as ``2026-03-05 10:15Z`` (text output only)."""
    from datetime import datetime

    try:
        return f"{datetime.fromisoformat(iso.replace('Z', '+00:00')):%Y-%m-%d %H:%M}Z"
    except ValueError:
        return iso


def _performance(perf: dict[str, Any]) -> list[str]:
    shown = []
    for name, p in perf.items():
        if p.get("threshold") is None and name != "accuracy":
            continue
        baseline = "" if p.get("baseline") is None else f" (reference {_num(p['baseline'])})"
        verdict = {True: "pass", False: "FAIL", None: ""}[p.get("passed")]
        shown.append(f"  {name}: {_num(p['value'])}{baseline} {verdict}".rstrip())
    return shown


def _operations(ops: dict[str, Any] | None) -> list[str]:
    if not ops:
        return []
    return [
        f"  latency p50 {_num(ops.get('latency_p50'))} ms, p99 {_num(ops.get('latency_p99'))} ms;"
        f" throughput {_num(ops.get('throughput_per_s'))} rows/s; rows {ops.get('row_count')}"
    ]


def _drift(drift: dict[str, Any] | None) -> list[str]:
    if not drift or drift.get("share") is None:
        return []
    columns = drift["columns"]
    unjudged = sum(c["drifted"] is None for c in columns)
    if columns and unjudged == len(columns):
        return [f"  data drift: not judged, insufficient data in all {unjudged} features"]
    drifted = [c for c in columns if c["drifted"]]
    drifted.sort(key=lambda c: -(c["score"] or 0))
    listed = ", ".join(f"{c['column']} ({c['method']} {_num(c['score'])})" for c in drifted)
    note = f" ({unjudged} not judged: insufficient data)" if unjudged else ""
    return [
        f"  data drift: {drift['share']:.0%} of features drifted{note}"
        f"{': ' + listed if listed else ''}"
    ]


def _model_drift(drift: dict[str, Any] | None) -> list[str]:
    if not drift:
        return []
    changes = ", ".join(f"{k} {v:+.3f}" for k, v in drift["degradation"].items())
    verdict = "yes" if drift["detected"] else "no"
    return [f"  model drift: {verdict}{' (' + changes + ' vs reference)' if changes else ''}"]


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def render_markdown(report: dict[str, Any]) -> str:
    """A summary table and a section per model, for a pull request, a wiki page or a chat."""
    lines = [
        f"# Model health ({report['generated_at']})",
        "",
        "| model | health | reason | last window end | status | live | labelled |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in report["models"]:
        last = m.get("last_scan") or {}
        rows = last.get("rows") or {}
        lines.append(
            f"| {m['name']} | {m['health']} | {_md(m['reason'])} | {last.get('window_end', '')} "
            f"| {last.get('status', '')} | {rows.get('live', '')} | {rows.get('labelled', '')} |"
        )
    for m in report["models"]:
        lines += ["", f"## {m['name']}: {m['health']}", ""]
        lines += [f"- {line.strip()}" for line in _details(m)]
        if m.get("action_items"):
            lines += ["", "Action items:", ""]
            lines += [f"1. {_md(item)}" for item in m["action_items"]]
    return "\n".join(lines)


def _details(m: dict[str, Any]) -> list[str]:
    return [
        f"next scan: {m['next_scan']}",
        *_alerts(m.get("alerts") or {}),
        *_performance(m.get("performance") or {}),
        *_operations(m.get("operations")),
        *_drift(m.get("data_drift")),
        *_model_drift(m.get("model_drift")),
    ]


def _md(text: str) -> str:
    return text.replace("|", "\\|")
