"""One model of the ``models:`` list: where its log is, what it holds, how it is checked."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.config.checks import (
    CLASSIFICATION_METRICS,
    LABEL_METRICS,
    LATENCY_METRICS,
    PERFORMANCE_METRICS,
    PROBABILITY_METRICS,
    REGRESSION_METRICS,
    AlertSettings,
    Checks,
    Threshold,
)
from monitor.config.notify import NotifyEntry
from monitor.config.types import (
    Identifier,
    Instant,
    NonNegativeDuration,
    PositiveDuration,
    Strict,
    Task,
    TimeZone,
)
from monitor.windows import Cron, Every, Schedule, validate_cron


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
    previous: PositiveDuration


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
    every: PositiveDuration


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
    label_delay: NonNegativeDuration = timedelta(0)
    latency: Identifier | None = None
    segment: Identifier | None = None
    max_segments: int = Field(default=20, ge=1)
    model_version: Identifier | None = None
    timezone: TimeZone = "UTC"
    reference: Reference
    window: PositiveDuration = timedelta(days=1)
    schedule: str | EverySchedule = EverySchedule(every=timedelta(hours=1))
    checks: Checks = Checks()
    alerts: AlertSettings = AlertSettings()
    #: where this model's alerts go; replaces the top-level notify: list (docs/integrations.md)
    notify: list[NotifyEntry] | None = None
    #: compute window summaries inside the source database (docs/performance.md)
    warehouse: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ModelConfig:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        if self.prediction is None and self.score is None:
            raise ValueError("give prediction, score or both")
        if self.task == "regression" and self.prediction is None:
            raise ValueError("a regression model needs prediction")
        if self.task == "multiclass_classification":
            self._check_multiclass()
        if isinstance(self.schedule, str):
            validate_cron(self.schedule, self.timezone)
        self._check_columns()
        return self

    def _check_multiclass(self) -> None:
        if self.prediction is None:
            raise ValueError(
                "a multiclass_classification model needs prediction (the predicted class); "
                "a single score cannot give it"
            )
        # Explicitly set, they would suggest a "positive" class that multiclass metrics ignore.
        for key in ("positive_label", "decision_threshold"):
            if key in self.model_fields_set:
                raise ValueError(
                    f"{key} applies to binary_classification only; "
                    "remove it or change task (task is multiclass_classification)"
                )

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
        if entry.metric in PROBABILITY_METRICS and self.task == "multiclass_classification":
            raise ValueError(
                f"{where}: {entry.metric} needs per-class probabilities, which one score "
                "column cannot give; it is not available for task multiclass_classification"
            )
        if entry.metric in PROBABILITY_METRICS and self.score is None:
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
