"""The configuration file's shape, validated with pydantic.

Field names are the YAML keys. Secrets are ``SecretStr`` so neither errors nor reprs echo
them. Cross-field rules (a model's source exists, a threshold's column is configured) live in
validators here; that tables and columns exist in the source is checked by
:func:`monitor.sources.validate.check_model` (``monitor config check``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from checks.registry import get_metric
from checks.thresholds import Bound, check_bound
from monitor.windows import Cron, Every, Schedule, parse_duration, parse_instant, validate_cron

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Severity = Literal["warning", "critical"]
Task = Literal["binary_classification", "regression"]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2")
LATENCY_METRICS = ("latency_p50", "latency_p95", "latency_p99")
OPERATIONAL_METRICS = ("row_count", "throughput", *LATENCY_METRICS, "missing_share")
LABEL_METRICS = ("label_coverage",)
PERFORMANCE_METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
KNOWN_METRICS = PERFORMANCE_METRICS + OPERATIONAL_METRICS + LABEL_METRICS


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently disable a check."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _instant(value: Any) -> Any:
    return parse_instant(value) if isinstance(value, str) else value


Instant = Annotated[datetime, BeforeValidator(_instant)]


def _sqlalchemy_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        # The URL may hold a password: say what is wrong, never echo it.
        raise ValueError("not a valid SQLAlchemy URL (dialect+driver://user@host/db)") from None
    return value


def _secret_url(value: SecretStr) -> SecretStr:
    _sqlalchemy_url(value.get_secret_value())
    return value


def _zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (expected an IANA name)") from None
    return value


TimeZone = Annotated[str, AfterValidator(_zone)]


class SourceConfig(Strict):
    url: Annotated[SecretStr, AfterValidator(_secret_url)]
    timezone: TimeZone = "UTC"


class Features(Strict):
    numerical: list[Identifier] = []
    categorical: list[Identifier] = []

    @property
    def all(self) -> list[str]:
        return [*self.numerical, *self.categorical]


class LabelsJoin(Strict):
    """Ground truth in a separate table, joined on ``key`` (a column of both tables)."""

    table: Identifier
    key: Identifier
    column: Identifier


class TableReference(Strict):
    table: Identifier
    source: str | None = None


class BetweenReference(Strict):
    between: tuple[Instant, Instant]

    @field_validator("between")
    @classmethod
    def _ordered(cls, value: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
        if value[0] >= value[1]:
            raise ValueError("the first time must be before the second")
        return value


class PreviousReference(Strict):
    previous: Duration


class FileReference(Strict):
    file: Path

    @field_validator("file")
    @classmethod
    def _format(cls, value: Path, info: ValidationInfo) -> Path:
        if value.suffix.lower() not in {".parquet", ".csv"}:
            raise ValueError("expected a .parquet or .csv file")
        base = (info.context or {}).get("base_dir")
        # Relative to the config file, so the file works from any working directory.
        return value if value.is_absolute() or base is None else Path(base) / value


def _reference_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _REFERENCE_KINDS.get(type(value).__name__)
    if isinstance(value, dict):
        kinds = [key for key in ("table", "between", "previous", "file") if key in value]
        return kinds[0] if len(kinds) == 1 else None
    return None


_REFERENCE_KINDS = {
    "TableReference": "table",
    "BetweenReference": "between",
    "PreviousReference": "previous",
    "FileReference": "file",
}

Reference = Annotated[
    Annotated[TableReference, Tag("table")]
    | Annotated[BetweenReference, Tag("between")]
    | Annotated[PreviousReference, Tag("previous")]
    | Annotated[FileReference, Tag("file")],
    Discriminator(
        _reference_kind,
        custom_error_type="reference_kind",
        custom_error_message="expected exactly one of table, between, previous or file",
    ),
]


class EverySchedule(Strict):
    every: Duration


def _known_method(method: str) -> str:
    from checks.drift import get_method
    from checks.errors import UnknownNameError

    if method != "auto":
        try:
            get_method(method)
        except UnknownNameError as exc:
            raise ValueError(str(exc)) from None
    return method


DriftMethod = Annotated[str, AfterValidator(_known_method)]


class ColumnDrift(Strict):
    """One column's own drift settings; what is left out comes from ``checks.drift``."""

    method: DriftMethod | None = None
    threshold: float | None = None
    severity: Severity | None = None


class DriftChecks(Strict):
    enabled: bool = True
    method: DriftMethod = "auto"
    threshold: float | None = None
    share: float = Field(default=0.5, gt=0, le=1)
    severity: Severity = "warning"
    correction: Literal["bonferroni", "bh"] | None = None
    missing_tolerance: float = Field(default=0.05, ge=0, le=1)
    per_column: dict[str, ColumnDrift] = {}
    prediction: bool = True
    target: bool = True

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
    min: float | None = None
    max: float | None = None
    max_drop: float | None = Field(default=None, ge=0)
    max_drop_relative: float | None = Field(default=None, ge=0)
    min_labels: int = Field(default=100, ge=1)
    severity: Severity = "warning"

    @model_validator(mode="after")
    def _valid_bound(self) -> Threshold:
        from checks.errors import ChecksError

        try:
            metric = get_metric(self.metric)
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


class Checks(Strict):
    drift: DriftChecks = DriftChecks()
    thresholds: list[Threshold] = []


class SeverityReminders(Strict):
    critical: Duration = timedelta(hours=4)
    warning: Duration = timedelta(hours=24)


class AlertSettings(Strict):
    channel: str | None = None
    raise_after: int = Field(default=1, ge=1)
    clear_after: int = Field(default=1, ge=1)
    remind_every: SeverityReminders = SeverityReminders()
    runbook: str | None = None
    sticky_health: bool = False

    @field_validator("remind_every", mode="before")
    @classmethod
    def _one_duration_for_both(cls, value: Any) -> Any:
        if isinstance(value, str | int | float | timedelta):
            return {"critical": value, "warning": value}
        return value


class ModelConfig(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]
    source: str
    table: Identifier | None = None
    query: str | None = None
    timestamp: Identifier
    features: Features = Features()
    prediction: Identifier | None = None
    score: Identifier | None = None
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    positive_label: int | str | bool = 1
    target: Identifier | LabelsJoin | None = None
    task: Task = "binary_classification"
    label_delay: Duration = timedelta(0)
    latency: Identifier | None = None
    segment: Identifier | None = None
    max_segments: int = Field(default=20, ge=1)
    model_version: Identifier | None = None
    timezone: TimeZone = "UTC"
    reference: Reference
    window: Duration = timedelta(days=1)
    schedule: str | EverySchedule = EverySchedule(every=timedelta(hours=1))
    checks: Checks = Checks()
    alerts: AlertSettings = AlertSettings()

    @model_validator(mode="after")
    def _consistent(self) -> ModelConfig:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        if self.prediction is None and self.score is None:
            raise ValueError("give prediction, score or both")
        if self.task == "regression" and self.prediction is None:
            raise ValueError("a regression model needs prediction")
        if isinstance(self.schedule, str):
            validate_cron(self.schedule, self.timezone)
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")
        self._check_columns()
        return self

    def _check_columns(self) -> None:
        features = set(self.features.all)
        for column in self.checks.drift.per_column:
            if column not in features:
                raise ValueError(f"checks.drift.per_column: {column!r} is not a feature")
        for entry in self.checks.thresholds:
            self._check_threshold(entry, features)

    def _check_threshold(self, entry: Threshold, features: set[str]) -> None:
        where = f"checks.thresholds ({entry.check_id})"
        if entry.metric in PERFORMANCE_METRICS + LABEL_METRICS and self.target is None:
            raise ValueError(f"{where}: needs target")
        if entry.metric in REGRESSION_METRICS and self.task != "regression":
            raise ValueError(f"{where}: is a regression metric but task is {self.task}")
        if entry.metric in CLASSIFICATION_METRICS and self.task == "regression":
            raise ValueError(f"{where}: is a classification metric but task is regression")
        if entry.metric in {"roc_auc", "log_loss"} and self.score is None:
            raise ValueError(f"{where}: needs score")
        if entry.metric in LATENCY_METRICS and self.latency is None:
            raise ValueError(f"{where}: needs latency")
        if entry.column is not None and entry.column not in features | self._outputs():
            raise ValueError(f"{where}: column {entry.column!r} is not configured")
        if entry.metric == "missing_share" and entry.max is None:
            raise ValueError(f"{where}: missing_share takes max")

    def _outputs(self) -> set[str]:
        return {c for c in (self.prediction, self.score, self.target_column) if c}

    @property
    def target_column(self) -> str | None:
        """The name the target has in loaded frames (the labels column when joined)."""
        if isinstance(self.target, LabelsJoin):
            return self.target.column
        return self.target

    @property
    def grid(self) -> Schedule:
        if isinstance(self.schedule, str):
            return Cron(self.schedule, self.timezone)
        return Every(self.schedule.every)


class SeverityRoute(Strict):
    channel: str | None = None
    mention: str | None = None


class SlackConfig(Strict):
    token: SecretStr
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    channel: str
    critical: SeverityRoute = SeverityRoute()
    warning: SeverityRoute = SeverityRoute()

    @field_validator("token")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("the token is empty")
        return value


class ApiConfig(Strict):
    token: SecretStr | None = None
    read_token: SecretStr | None = None
    public_url: str | None = None


class RetentionConfig(Strict):
    scans: Duration = timedelta(days=180)
    notifications: Duration = timedelta(days=30)


class Config(Strict):
    state_db: Annotated[str, AfterValidator(_sqlalchemy_url)] = "sqlite:///monitor.db"
    sources: dict[str, SourceConfig] = {}
    slack: SlackConfig | None = None
    api: ApiConfig = ApiConfig()
    retention: RetentionConfig = RetentionConfig()
    models: list[ModelConfig] = []

    def reference_problems(self) -> list[tuple[str, str]]:
        """``(key path, problem)`` for names that refer to nothing: sources, duplicates."""
        problems = []
        names = [m.name for m in self.models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(("models", f"duplicate model names: {', '.join(duplicates)}"))
        known = ", ".join(sorted(self.sources)) or "none"
        for model in self.models:
            if model.source not in self.sources:
                problem = f"unknown source {model.source!r}; known: {known}"
                problems.append((f"models[{model.name}].source", problem))
            ref = model.reference
            if isinstance(ref, TableReference) and ref.source and ref.source not in self.sources:
                problem = f"unknown source {ref.source!r}; known: {known}"
                problems.append((f"models[{model.name}].reference.source", problem))
        return problems

    def model(self, name: str) -> ModelConfig:
        for model in self.models:
            if model.name == name:
                return model
        from monitor.errors import ConfigError

        known = ", ".join(m.name for m in self.models) or "none"
        raise ConfigError(f"unknown model {name!r}; known: {known}")
