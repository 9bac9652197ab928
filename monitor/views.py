"""The JSON shapes the service publishes: the HTTP API, ``monitor status --json`` and
``monitor alerts --json`` build these models, so ``/docs`` shows the same schema the CLI prints.

Fields are added, never renamed or removed (``tests/contracts`` holds a snapshot of each
schema and fails when a field disappears or changes type). Times are strings in UTC, ISO 8601
with a ``Z`` (``2026-03-05T10:15:00Z``), exactly as the CLI printed them before these models.
Values are ``int | float`` where the stored JSON may hold either, so an integer stays an
integer in the output.

This module imports nothing of the service: every layer may use it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

Timestamp = Annotated[str, Field(description="UTC, ISO 8601 with a Z suffix")]
Number = int | float
JsonObject = dict[str, JsonValue]
Health = Literal["green", "yellow", "red"]


class View(BaseModel):
    """Base of every published shape: its JSON form is :meth:`as_json`."""

    model_config = ConfigDict(populate_by_name=True)

    def as_json(self) -> JsonObject:
        """The JSON object as published (field aliases such as ``from`` applied)."""
        return self.model_dump(mode="json", by_alias=True)


class Rows(View):
    reference: int | None = Field(description="Rows in the reference window")
    live: int | None = Field(description="Rows in the live window")
    labelled: int | None = Field(description="Live rows with a label")


# --- the status report (``monitor status --json``, ``/api/models``) ----------------------


class ScanSummary(View):
    """The latest scan of a model, in its status report."""

    id: int
    window_start: Timestamp
    window_end: Timestamp
    status: str = Field(description="ok, failed, no_data or error")
    error: str | None
    warnings: list[str]
    rows: Rows


class FailedAttempt(View):
    """A later run that failed beside the kept results of ``kept_scan_id``."""

    id: int
    window_start: Timestamp
    window_end: Timestamp
    error: str
    started_at: Timestamp
    finished_at: Timestamp
    kept_scan_id: int


class PerformanceMetric(View):
    value: Number | None
    baseline: Number | None = Field(description="The value on the reference window")
    threshold: float | None
    passed: bool | None = Field(description="None: not thresholded or not enough labels")
    labelled: int | None


class DriftedColumn(View):
    column: str
    method: str
    score: float | None
    drifted: bool | None = Field(description="None: not judged (insufficient data)")
    threshold: float | None = Field(default=None, description="The score's drift threshold")
    how: str | None = Field(
        default=None,
        description="Calibrated mode: how the threshold was learnt on the reference",
    )
    effect: str | None = Field(
        default=None, description='What changed, e.g. "income: mean +0.31 sd" (calibrated mode)'
    )


class DataDrift(View):
    detected: bool | None = Field(description="None: no column could be judged")
    share: float | None = Field(description="Share of drifted columns")
    columns: list[DriftedColumn]


class ModelDrift(View):
    detected: bool
    degradation: dict[str, Number] = Field(description="Metric value minus its reference value")


class CheckResolutions(View):
    """How people resolved the last alerts of one check (to tune its threshold)."""

    check_id: str
    last: int = Field(description="alerts counted: the check's last resolved ones, at most 5")
    fixed: int
    expected: int
    false_positive: int


class AlertCounts(View):
    open: int
    unacknowledged: int
    oldest_unacknowledged_since: Timestamp | None
    resolutions: list[CheckResolutions] = Field(
        default_factory=list, description="checks whose recent alerts were judged by a person"
    )


class Maintenance(View):
    """A maintenance window of one model: scans run and store, notifications are held."""

    id: int
    model: str
    starts_at: Timestamp
    ends_at: Timestamp = Field(description="the planned end, or when it was cancelled")
    created_by: str
    reason: str
    cancelled_by: str | None
    active: bool = Field(description="in force now")


class MaintenanceList(View):
    windows: list[Maintenance]


class ModelStatus(View):
    """One model's status report (``/api/models/{name}``)."""

    name: str
    health: Health
    reason: str = Field(description="Why the model has this colour, in one line")
    last_scan: ScanSummary | None
    last_failed_attempt: FailedAttempt | None
    next_scan: Timestamp
    performance: dict[str, PerformanceMetric] | None
    operations: JsonObject | None = Field(
        description="row_count, throughput_per_s and latency_pNN of the latest judged scan"
    )
    data_drift: DataDrift | None
    model_drift: ModelDrift | None
    alerts: AlertCounts
    action_items: list[str] = Field(description="What to look at, worst first")
    maintenance: Maintenance | None = Field(
        default=None, description="the maintenance window in force now (notifications held)"
    )


class StatusReport(View):
    """Every chosen model's status report (``monitor status --json``, ``/api/models``)."""

    generated_at: Timestamp
    models: list[ModelStatus]


# --- scans and check history ---------------------------------------------------------------


class Scan(View):
    """One stored scan (``/api/models/{name}/scans``)."""

    id: int
    model: str
    window_start: Timestamp
    window_end: Timestamp
    status: str = Field(description="ok, failed, no_data or error")
    error: str | None
    warnings: list[str]
    rows: Rows
    model_versions: list[str]
    reference: JsonObject = Field(description="The reference window or file the scan used")
    config_hash: str
    started_at: Timestamp
    finished_at: Timestamp
    timings: dict[str, Number] = Field(description="Seconds per scan phase")


class CheckResult(View):
    check_id: str
    segment: str | None = Field(description="None: the whole window")
    method: str
    value: float | None
    threshold: float | None
    passed: bool | None
    severity: str | None
    reason: str | None
    details: JsonObject


class ScanDetail(Scan):
    """One scan with its metrics and every check result (``/api/scans/{id}``)."""

    metrics: JsonObject
    results: list[CheckResult]


class ScanList(View):
    scans: list[Scan]


class HistoryPoint(View):
    scan_id: int
    window_end: Timestamp
    value: float | None
    threshold: float | None
    passed: bool | None
    severity: str | None


class AlertPeriod(View):
    id: int
    state: str
    severity: str
    from_: Timestamp = Field(alias="from")
    to: Timestamp | None = Field(description="None while the breach goes on")


class CheckHistory(View):
    """One check's value per scan, oldest first, and its alert periods."""

    model: str
    check_id: str
    segment: str | None
    points: list[HistoryPoint]
    alerts: list[AlertPeriod]


# --- alerts ------------------------------------------------------------------------------


class SlackMessage(View):
    channel: str | None
    ts: str | None


class FailingSegment(View):
    """A failing segment of an alert that stands for every segment of its check."""

    segment: str
    severity: str
    value: float | None
    threshold: float | None
    summary: str


class Alert(View):
    """One alert (``monitor alerts --json`` lists these)."""

    id: int
    model: str
    check_id: str
    segment: str | None
    state: str = Field(description="firing, recovered, acknowledged or resolved")
    severity: str
    condition: str
    occurrences: int
    value: float | None
    threshold: float | None
    summary: str
    segments: list[FailingSegment] = Field(
        description="its failing segments, worst first (empty for a per-segment alert)"
    )
    runbook: str | None
    raised_at: Timestamp = Field(description="data time: the window end of the scan that raised it")
    recorded_at: Timestamp | None = Field(description="wall clock when it was raised")
    last_breach_at: Timestamp | None
    recovered_at: Timestamp | None
    acked_at: Timestamp | None
    acked_by: str | None
    ack_note: str | None
    snoozed_until: Timestamp | None
    resolved_at: Timestamp | None
    resolved_by: str | None
    resolve_reason: str | None
    resolution: str | None = Field(description="fixed, expected or false_positive (by a person)")
    next_reminder_at: Timestamp | None
    flapping_since: Timestamp | None = Field(
        default=None, description="data time it started flapping: changes recorded, not posted"
    )
    slack: SlackMessage
    version: int


class AlertEvent(View):
    at: Timestamp = Field(
        description="data time (the scan's window end) for scan-driven events, else wall clock"
    )
    recorded_at: Timestamp | None = Field(description="wall clock of the write")
    kind: str
    from_state: str | None
    to_state: str
    severity: str
    actor: str
    reason: str
    note: str | None
    window_end: Timestamp | None
    details: JsonObject


class AlertDetail(Alert):
    """One alert with its events, oldest first (``/api/alerts/{id}``)."""

    events: list[AlertEvent]


class AlertList(View):
    alerts: list[Alert]


class AlertActionResult(View):
    alert: Alert
    transition: str = Field(description="The transition the action made")


# --- operations --------------------------------------------------------------------------


class Liveness(View):
    status: Literal["ok"]


class SlackDelivery(View):
    status: Literal["ok", "degraded"]
    failed: int
    retrying: int
    last_error: str | None
    problems: list[str] = Field(
        default_factory=list,
        description="One line per notification refused for good, newest first (at most 5)",
    )


class Readiness(View):
    """``/readyz``: 200 when ``ready``, else 503 with the reasons."""

    ready: bool
    state_db: str = Field(description="ok, or unreachable: <error type>")
    last_tick: Timestamp | None = None
    tick: str | None = None
    slack: SlackDelivery | None = None
