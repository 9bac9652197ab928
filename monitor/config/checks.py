"""The ``checks:`` and ``alerts:`` sections of a model: drift settings and threshold ladders."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from checks.bounds import Bound, check_bound
from checks.errors import ChecksError, UnknownNameError
from checks.names import check_drift_method, metric_spec
from monitor.config.types import FiniteFloat, PositiveDuration, Severity, Strict

LABEL_CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1")
#: classification metrics that need a probability (binary only: one score column)
PROBABILITY_METRICS = ("roc_auc", "log_loss")
CLASSIFICATION_METRICS = LABEL_CLASSIFICATION_METRICS + PROBABILITY_METRICS
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2")
LATENCY_METRICS = ("latency_p50", "latency_p95", "latency_p99")
OPERATIONAL_METRICS = ("row_count", "throughput", *LATENCY_METRICS, "missing_share")
LABEL_METRICS = ("label_coverage",)
PERFORMANCE_METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
#: estimated without labels (CBPE fitted on the reference's labelled rows)
ESTIMATED_METRICS = tuple(f"estimated_{m}" for m in (*LABEL_CLASSIFICATION_METRICS, "roc_auc"))
#: PCA reconstruction error of the features, fitted on the reference
MULTIVARIATE_DRIFT = "multivariate_drift"
FITTED_METRICS = (*ESTIMATED_METRICS, MULTIVARIATE_DRIFT)
KNOWN_METRICS = PERFORMANCE_METRICS + OPERATIONAL_METRICS + LABEL_METRICS + FITTED_METRICS
#: volume checks: a segment holds a share of the rows, so a per-segment bound is rarely meant
VOLUME_METRICS = ("row_count", "throughput")

#: ``segments:`` of a threshold or drift entry: false (whole window only), true (also each
#: segment, one alert per check listing the failing segments) or "each" (one alert per segment)
Segments = bool | Literal["each"]


def _known_method(method: str) -> str:
    if method != "auto":
        try:
            check_drift_method(method)
        except UnknownNameError as exc:
            raise ValueError(str(exc)) from None
    return method


DriftMethod = Annotated[str, AfterValidator(_known_method)]


class ColumnDrift(Strict):
    """One column's own drift settings; what is left out comes from ``checks.drift``."""

    method: DriftMethod | None = None
    threshold: FiniteFloat | None = None
    severity: Severity | None = None


class DriftChecks(Strict):
    enabled: bool = True
    # "calibrated": thresholds learnt on the reference at the live window's size, a
    # false-alarm rate per scan (docs/drift.md "Calibrated mode"); "evidently":
    # Evidently's fixed thresholds and dataset rule, exactly (method/threshold/share/...).
    mode: Literal["calibrated", "evidently"] = "calibrated"
    # calibrated mode: the share of unchanged scans in which any drift column alerts (each
    # column's threshold is learnt at this rate divided by the scan's drift columns)
    false_alarm_rate: float = Field(default=0.01, gt=0, lt=0.5)
    # calibrated mode: fewer non-null live values than this is "insufficient data"; in
    # evidently mode, a segment with fewer rows than this is not compared
    min_rows: int = Field(default=100, ge=1)
    segments: Segments = True
    method: DriftMethod = "auto"
    threshold: FiniteFloat | None = None
    share: float = Field(default=0.5, gt=0, le=1)
    severity: Severity = "warning"
    correction: Literal["bonferroni", "bh"] | None = None
    missing_tolerance: float = Field(default=0.05, ge=0, le=1)
    per_column: dict[str, ColumnDrift] = {}
    prediction: bool = True
    target: bool = True
    # Distinct values a categorical column keeps per window, the rest counted as one
    # "__other__" category (null: no cap); bounds memory on id-like columns.
    max_categories: int | None = Field(default=10_000, ge=2)

    def column_test(self, column: str) -> tuple[str, float | None]:
        """(method, threshold) for ``column``: its own method brings its own threshold."""
        own = self.per_column.get(column)
        if own is None or (own.method is None and own.threshold is None):
            return self.method, self.threshold
        if own.method is None:
            return self.method, own.threshold
        return own.method, own.threshold


class Threshold(Strict):
    metric: str
    column: str | None = None
    min: FiniteFloat | None = None
    max: FiniteFloat | None = None
    max_drop: FiniteFloat | None = Field(default=None, ge=0)
    max_drop_relative: FiniteFloat | None = Field(default=None, ge=0)
    min_labels: int = Field(default=100, ge=1)
    severity: Severity = "warning"
    # None: false for volume checks (row_count, throughput), true for the others
    segments: Segments | None = None
    # a segment with fewer live rows than this is "insufficient data" for this check
    min_rows: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _valid_bound(self) -> Threshold:
        try:
            metric = metric_spec(self.metric)
            check_bound(self.metric, self.bound())
        except ChecksError as exc:
            raise ValueError(str(exc)) from None
        if metric.per_column and self.column is None:
            raise ValueError(f"{self.metric} needs a column")
        if not metric.per_column and self.column is not None:
            raise ValueError(f"{self.metric} does not take a column")
        return self

    def bound(self) -> Bound:
        """This entry as the checks library's bound (one rung of a ladder)."""
        return Bound(
            min=self.min,
            max=self.max,
            max_drop=self.max_drop,
            max_drop_relative=self.max_drop_relative,
            severity=self.severity,
        )

    @property
    def check_id(self) -> str:
        return f"{self.metric}:{self.column}" if self.column else self.metric

    @property
    def per_segment(self) -> Segments:
        """Whether this entry is judged per segment too (``segments:`` or its default)."""
        if self.segments is None:  # volume checks and multivariate drift: whole window only
            return self.metric not in VOLUME_METRICS and self.metric != MULTIVARIATE_DRIFT
        return self.segments


class MultivariateDrift(Strict):
    """``multivariate_drift`` judged by thresholds learnt on the reference (mean ± 3 sd of
    the reconstruction error of reference chunks of the live window's size, as NannyML).
    Threshold entries ``{metric: multivariate_drift, max: ...}`` replace that rule."""

    enabled: bool = False
    # the features it reads (default: every numerical and categorical feature)
    columns: list[str] | None = None
    severity: Severity = "warning"


class Checks(Strict):
    drift: DriftChecks = DriftChecks()
    multivariate_drift: MultivariateDrift = MultivariateDrift()
    thresholds: list[Threshold] = []

    @model_validator(mode="after")
    def _ladders_agree_on_segments(self) -> Checks:
        seen: dict[str, Segments] = {}
        for entry in self.thresholds:
            first = seen.setdefault(entry.check_id, entry.per_segment)
            if first != entry.per_segment:
                raise ValueError(
                    f"thresholds of {entry.check_id} form one check: give them the same "
                    f"segments: setting (got {first!r} and {entry.per_segment!r})"
                )
        return self


class SeverityReminders(Strict):
    critical: PositiveDuration = timedelta(hours=4)
    warning: PositiveDuration = timedelta(hours=24)


class AlertSettings(Strict):
    channel: str | None = None
    raise_after: int = Field(default=1, ge=1)
    clear_after: int = Field(default=1, ge=1)
    remind_every: SeverityReminders = SeverityReminders()
    runbook: str | None = None
    sticky_health: bool = False
    # Flapping (docs/alerts.md): flap_threshold flips (0: off) within flap_window (default 20
    # scan intervals) mark an alert flapping; no flip for flap_quiet (default half of
    # flap_window) ends it.
    flap_threshold: int = Field(default=4, ge=0)
    flap_window: PositiveDuration | None = None
    flap_quiet: PositiveDuration | None = None
    # Re-page an unacknowledged critical after this; re-notify an acknowledgement after this.
    escalate_after: PositiveDuration | None = None
    ack_timeout: PositiveDuration | None = None

    @field_validator("remind_every", mode="before")
    @classmethod
    def _one_duration_for_both(cls, value: Any) -> Any:
        if isinstance(value, str | int | float | timedelta):
            return {"critical": value, "warning": value}
        return value
