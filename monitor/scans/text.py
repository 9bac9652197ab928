"""One line per scan for the terminal."""

from __future__ import annotations

from checks.phrases import effect_phrase
from monitor.scans.result import CheckRow, ScanReport
from monitor.windows import isoformat_z


def scan_line(report: ScanReport) -> str:
    """The scan's line, then one indented line per warning (an empty reference, ...)."""
    return "\n".join([_line(report), *(f"  warning: {w}" for w in report.warnings)])


def _line(report: ScanReport) -> str:
    head = f"{report.model}  {isoformat_z(report.window.end)}  {report.status:<7}"
    if report.status == "error" and report.kept_scan_id is not None:
        kept = f"results of scan #{report.kept_scan_id} kept; the error is recorded beside them"
        return f"{head}  {report.error}  ({kept})"
    if report.status == "error":
        return f"{head}  {report.error}"
    rows = report.rows
    counts = f"live={rows.get('live')} labelled={rows.get('labelled')}"
    alerting = [r for r in report.failed if r.severity]
    quiet = len(report.failed) - len(alerting)
    # Failed checks without a severity (a column's drift, a segment's) raise no alert.
    also = f"  (+{quiet} failed without severity)" if quiet else ""
    if not alerting:
        return f"{head}  {counts}{also}"
    return f"{head}  {counts}  failing: " + "; ".join(_finding(r) for r in alerting) + also


def _finding(row: CheckRow) -> str:
    o = row.outcome
    where = f"[{row.segment}]" if row.segment else ""
    if o.check == "dataset_drift":
        drifted = ", ".join(o.details.get("effects", []) or o.details.get("drifted", []))
        return f"dataset_drift{where} ({drifted}) ({row.severity})"
    value = "" if o.value is None else f" {o.value:.3g}"
    limit = "" if o.threshold is None else f" vs {o.threshold:.3g}"
    lead = f"{phrase}: " if (phrase := effect_phrase(o.details)) else ""
    return f"{lead}{o.check}{where}{value}{limit} ({row.severity})"
