"""The status report as text for a terminal."""

from __future__ import annotations

from typing import Any

MARKS = {"green": "[green] ", "yellow": "[yellow]", "red": "[red]   "}


def render_text(report: dict[str, Any]) -> str:
    blocks = [_model(m) for m in report["models"]]
    return "\n\n".join(blocks) if blocks else "no models configured"


def _model(m: dict[str, Any]) -> str:
    lines = [f"{MARKS.get(m['health'], m['health'])} {m['name']}: {m['reason']}"]
    last = m.get("last_scan")
    if last:
        rows = last["rows"]
        lines.append(
            f"  last scan #{last['id']}: window {last['window_start']} .. {last['window_end']}, "
            f"{last['status']}, rows live={rows['live']} labelled={rows['labelled']} "
            f"reference={rows['reference']}"
        )
    lines.append(f"  next scan: {m['next_scan']}")
    lines += _alerts(m.get("alerts") or {})
    lines += _performance(m.get("performance") or {})
    lines += _drift(m.get("data_drift"))
    lines += [f"  - {item}" for item in m.get("action_items") or []]
    return "\n".join(lines)


def _alerts(alerts: dict[str, Any]) -> list[str]:
    if not alerts.get("open"):
        return []
    since = alerts.get("oldest_unacknowledged_since")
    unacked = f", {alerts['unacknowledged']} unacknowledged" if alerts.get("unacknowledged") else ""
    oldest = f" (oldest since {since})" if since else ""
    return [f"  alerts: {alerts['open']} open{unacked}{oldest}; see `monitor alerts`"]


def _performance(perf: dict[str, Any]) -> list[str]:
    shown = []
    for name, p in perf.items():
        if p.get("threshold") is None and name != "accuracy":
            continue
        value = "n/a" if p["value"] is None else f"{p['value']:.3f}"
        baseline = "" if p.get("baseline") is None else f" (reference {p['baseline']:.3f})"
        verdict = {True: "pass", False: "FAIL", None: ""}[p.get("passed")]
        shown.append(f"  {name}: {value}{baseline} {verdict}".rstrip())
    return shown


def _drift(drift: dict[str, Any] | None) -> list[str]:
    if not drift or drift.get("share") is None:
        return []
    drifted = [c["column"] for c in drift["columns"] if c["drifted"]]
    listed = f": {', '.join(drifted)}" if drifted else ""
    return [f"  data drift: {drift['share']:.0%} of features drifted{listed}"]


def render_markdown(report: dict[str, Any]) -> str:
    """A table per report, for a pull request, a wiki page or a chat message."""
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
            f"| {m['name']} | {m['health']} | {m['reason']} | {last.get('window_end', '')} "
            f"| {last.get('status', '')} | {rows.get('live', '')} | {rows.get('labelled', '')} |"
        )
    for m in report["models"]:
        if m.get("action_items"):
            lines += ["", f"## {m['name']}: action items", ""]
            lines += [f"- {item}" for item in m["action_items"]]
    return "\n".join(lines)
