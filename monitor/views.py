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

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

Timestamp = Annotated[str, Field(description="UTC, ISO 8601 with a Z suffix")]
Number = int | float
JsonObject = dict[str, JsonValue]
Health = Literal["green", "yellow", "red"]


def _empty_list() -> list[Any]:
    """The default of the list fields. Not ``list``: pydantic asks each default factory for
    its signature when it builds a shape, and ``inspect.signature`` of a builtin type parses
    its text signature with the tokenizer (0.3 ms each, and 2-3 ms to compile the
    tokenizer's patterns on the first), which `monitor status` paid on every run."""
    return []


class View(BaseModel):
    """Base of every published shape: its JSON form is :meth:`as_json`."""

    # defer_build: a shape's validator is built when first used, not at import; a command
    # prints a few of these ~40 shapes (`monitor alerts` none), and the rest cost it 0.06 s.
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

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
    change_percent: float | None = Field(
        default=None, description="(value - baseline) / |baseline| in percent; None without both"
    )
    higher_is_better: bool | None = Field(
        default=None,
        description="Whether a rise is an improvement (accuracy) or a degradation (mae, log_loss);"
        " None for a metric the registry does not know",
    )


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
    degradation_percent: dict[str, float] = Field(
        default_factory=dict,
        description="The same change in percent of the reference value (-10.4: 10.4% worse "
        "for a higher-is-better metric)",
    )


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
        default_factory=_empty_list,
        description="checks whose recent alerts were judged by a person",
    )


class Maintenance(View):
    """A maintenance window of one model: scans run and store, notifications are held."""

    id: int
    model: str
    starts_at: Timestamp
    ends_at: Timestamp = Field(description="the planned end (kept when it is cancelled)")
    created_by: str
    reason: str
    cancelled_by: str | None
    cancelled_at: Timestamp | None = Field(
        default=None, description="when it was cancelled (it held nothing after that)"
    )
    active: bool = Field(description="in force now")


class MaintenanceList(View):
    windows: list[Maintenance]


class Retraining(View):
    """One recorded retraining (``POST /api/models/{name}/retrainings``, ``monitor retrained``
    or a new ``model_version`` seen by a scan)."""

    id: int
    model: str
    version: str | None
    retrained_at: Timestamp = Field(description="When the retrained model started serving")
    recorded_at: Timestamp
    source: Literal["scan", "api", "cli"]
    recorded_by: str | None
    note: str | None


class RetrainingList(View):
    retrainings: list[Retraining]


class Throughput(View):
    """Live rows per unit of time, with the unit a person reads best: per second from 1 row/s,
    per hour from 1 row/h, else per day."""

    per_s: float
    per_hour: float
    per_day: float
    unit: Literal["s", "hour", "day"] = Field(description="The unit shown by the dashboard")
    value: float = Field(description="Rows per ``unit``")


class ActionItem(View):
    """One action item for a web page: its line of text and what it is about, so the page can
    offer a button (open the check, acknowledge its alert) instead of a CLI command."""

    text: str
    kind: Literal["check", "alerts", "scan_error", "no_data", "no_scan"]
    severity: str | None = None
    check_id: str | None = None
    segment: str | None = None
    alert_id: int | None = Field(default=None, description="The open alert on that check")
    alert_state: str | None = Field(
        default=None, description="Its state: firing, recovered or acknowledged"
    )


class EstimatedValue(View):
    """One metric of one window: CBPE's estimate (before the labels) and the realised value
    once they arrived. Show ``realised`` whenever it exists; the estimate cannot see a change
    in how inputs relate to the label (concept drift)."""

    estimated: float | None
    lower: float | None = Field(description="Band: estimate - 3 sampling errors (clipped at 0)")
    upper: float | None = Field(description="Band: estimate + 3 sampling errors (clipped at 1)")
    sampling_error: float | None
    realised: float | None = Field(description="The metric on the window's labels, once in")
    labelled: int | None
    error: float | None = Field(description="realised - estimated, once the labels are in")
    labels: Literal["pending", "arrived"]
    text: str = Field(description='e.g. "accuracy 0.78 (estimated ± 0.02, labels pending)"')


class EstimatedWindow(View):
    window_start: Timestamp
    window_end: Timestamp
    metrics: dict[str, EstimatedValue]


class EstimationError(View):
    """How far the estimates were from the realised values, over the windows that have both
    (the latest 2,000 estimated-realised pairs of the model)."""

    windows: int
    mean_abs_error: float | None
    last_error: float | None = Field(description="realised - estimated of the latest such window")


class EstimatedPerformance(View):
    """Estimated performance per window, newest first, and the tracked estimation error."""

    recent: list[EstimatedWindow]
    error: dict[str, EstimationError]
    segments: dict[str, SegmentEstimates] = Field(
        default_factory=dict,
        description="A segmented model's estimates per segment (segment value: its windows)",
    )


class SegmentEstimates(View):
    """One segment's estimated performance per window, newest first, and its error."""

    recent: list[EstimatedWindow]
    error: dict[str, EstimationError]


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
    estimates: EstimatedPerformance | None = Field(
        default=None, description="Estimated vs realised performance (estimated_* thresholds)"
    )
    alerts: AlertCounts
    action_items: list[str] = Field(description="What to look at, worst first")
    maintenance: Maintenance | None = Field(
        default=None, description="the maintenance window in force now (notifications held)"
    )
    actions: list[ActionItem] = Field(
        default_factory=_empty_list, description="The action items with what each one is about"
    )
    last_retraining: Retraining | None = None
    next_retraining: Timestamp | None = Field(
        default=None, description="From the model's retraining: schedule (None without one)"
    )
    throughput: Throughput | None = None


class NotifierDelivery(View):
    """The delivery state of one notifier: its outbox rows refused for good or retrying."""

    name: str = Field(
        description="slack or console (the alert thread's notifier), else the destination "
        "as the outbox names it: pagerduty:oncall, webhook:retrain, email:team"
    )
    kind: str = Field(description="slack, console, pagerduty, webhook or email")
    status: Literal["ok", "degraded"]
    failed: int = Field(description="Notifications refused for good")
    retrying: int = Field(description="Notifications waiting for a retry after an error")
    last_error: str | None = Field(description="Of the newest notification not sent")
    problems: list[str] = Field(
        default_factory=_empty_list,
        description="One line per notification refused for good, newest first (at most 5)",
    )


class StatusReport(View):
    """Every chosen model's status report (``monitor status --json``, ``/api/models``)."""

    generated_at: Timestamp
    models: list[ModelStatus]
    delivery: list[NotifierDelivery] = Field(
        default_factory=_empty_list,
        description="Each configured notifier's delivery: notifications refused for good "
        "(a revoked token, an unknown recipient) or retrying, the thread's notifier first",
    )


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


class ThresholdLevel(View):
    """One rung of a check's threshold ladder, as configured (``min``/``max`` entries)."""

    severity: str
    bound: Literal["min", "max"] = Field(description="min: fails below; max: fails above")
    value: float


class CheckHistory(View):
    """One check's value per scan, oldest first, and its alert periods."""

    model: str
    check_id: str
    segment: str | None
    points: list[HistoryPoint]
    alerts: list[AlertPeriod]
    levels: list[ThresholdLevel] = Field(
        default_factory=_empty_list, description="Each configured threshold level, for charts"
    )


class MetricPoint(View):
    scan_id: int
    window_end: Timestamp
    rows: Rows
    operations: JsonObject = Field(description="row_count, throughput_per_s, latency_pNN")
    performance: JsonObject = Field(description="Per metric: value, baseline, labelled")


class MetricHistory(View):
    """A model's observed metrics per scan, oldest first (``/api/models/{name}/metrics``)."""

    model: str
    points: list[MetricPoint]


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
    retraining_requested_at: Timestamp | None = Field(
        default=None,
        description="When a webhook (the documented way to start retraining) first accepted "
        "a notification of this alert",
    )


class AlertList(View):
    alerts: list[Alert]


class AlertActionResult(View):
    alert: Alert
    transition: str = Field(description="The transition the action made")


class AlertHealth(View):
    health: Health
    reason: str = Field(description="Why the model has this colour, in one line")


class WebhookBody(View):
    """The body of a signed webhook (docs/integrations.md). ``schema_version`` changes only
    when a field is removed or changes meaning; fields are added within a version."""

    schema_version: Literal[1]
    event: str = Field(description="raised, updated, escalated, recovered, resolved, ...")
    delivery: str = Field(description="The same on every retry of one notification")
    alert_key: str = Field(description="Stable for the alert's life (PagerDuty's dedup_key)")
    sent_at: Timestamp
    alert: Alert
    scan: ScanDetail | None = Field(description="The model's latest scan, every check result")
    health: AlertHealth | None
    links: dict[str, str] = Field(
        description="alert: the alert on the dashboard, check: its check's chart, model: the "
        "model's page (with api.public_url)"
    )


# --- operations --------------------------------------------------------------------------


class Liveness(View):
    status: Literal["ok"]


class SlackDelivery(View):
    status: Literal["ok", "degraded"]
    failed: int
    retrying: int
    last_error: str | None
    problems: list[str] = Field(
        default_factory=_empty_list,
        description="One line per notification refused for good, newest first (at most 5)",
    )


class Readiness(View):
    """``/readyz``: 200 when ``ready``, else 503 with the reasons."""

    ready: bool
    state_db: str = Field(description="ok, or unreachable: <error type>")
    last_tick: Timestamp | None = None
    tick: str | None = None
    slack: SlackDelivery | None = Field(
        default=None,
        description="Every destination's delivery together (its first name, kept as it was); "
        "notifiers has them one by one",
    )
    notifiers: list[NotifierDelivery] | None = Field(
        default=None, description="Each configured notifier's delivery, the thread's first"
    )
