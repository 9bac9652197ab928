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
    ESTIMATED_METRICS,
    FITTED_METRICS,
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
    Refresh,
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


#: contents of a fixed reference are checked for changes at most once a day by default
DEFAULT_REFRESH = timedelta(days=1)


class FixedReference(Strict):
    """A reference that does not move with the live window: summarised once and cached.

    Its contents (a period's row count, newest timestamp and labelled rows; a table's row
    count; a file's hash) are checked for changes at most once per ``refresh``: a change made
    to them is used by the first scan at least ``refresh`` after the last check. ``always``
    checks on every scan (a COUNT over the reference each time), ``never`` only when the
    reference is first summarised (or its definition in the config changes).
    """

    refresh: Refresh = DEFAULT_REFRESH


class TableReference(FixedReference):
    table: Identifier
    source: str | None = None


class BetweenReference(FixedReference):
    between: tuple[Instant, Instant]

    @field_validator("between")
    @classmethod
    def _ordered(cls, value: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
        if value[0] >= value[1]:
            raise ValueError("the first time must be before the second")
        return value


class PreviousReference(Strict):
    previous: PositiveDuration


class FileReference(FixedReference):
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


_NO_WAREHOUSE = (
    "not supported in warehouse mode: it needs each row's score (CBPE) or every feature of "
    "each row together (PCA), which a window summary of counts and bins does not hold; "
    "set warehouse: false for this model"
)


class EverySchedule(Strict):
    every: PositiveDuration


class Retraining(Strict):
    """When the model is retrained: a cron (``"0 3 1 * *"``, in the model's timezone) or a
    period after the last recorded retraining (``{every: 30d}``). Gives "next retraining"."""

    schedule: str | None = None
    every: PositiveDuration | None = None

    @model_validator(mode="after")
    def _one(self) -> Retraining:
        if (self.schedule is None) == (self.every is None):
            raise ValueError("give exactly one of schedule (a cron) or every (a duration)")
        return self


class ModelConfig(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]
    source: str
    table: Identifier | None = None
    query: str | None = None
    timestamp: Identifier
    features: Features = Features()
    prediction: Identifier | None = None
    score: Identifier | None = None
    #: multiclass: one score column per class (``{class: column}``), for estimated metrics
    class_scores: dict[str, Identifier] = {}
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
    retraining: Retraining | None = None
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
        if self.retraining is not None and self.retraining.schedule is not None:
            try:
                validate_cron(self.retraining.schedule, self.timezone)
            except ValueError as exc:
                raise ValueError(f"retraining.schedule: {exc}") from None
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
        self._check_fitted()

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

    def _check_fitted(self) -> None:
        """Estimated metrics and multivariate drift: what their fit on the reference needs."""
        for metric in sorted({t.metric for t in self.checks.thresholds} & set(ESTIMATED_METRICS)):
            key = f"checks.thresholds ({metric})"  # the loader puts models[<name>] first
            if self.task == "regression":
                raise ValueError(f"{key}: is a classification metric but task is regression")
            if self.target is None:
                raise ValueError(f"{key}: needs target (the reference's labels calibrate it)")
            if self.task == "binary_classification" and self.score is None:
                raise ValueError(f"{key}: needs score (CBPE reads the score as a probability)")
            if self.task == "multiclass_classification" and not self.class_scores:
                raise ValueError(
                    f"{key}: a multiclass model needs one score column per class "
                    "(class_scores: {class: column}); CBPE reads each class's score as the "
                    "probability of that class, and a single score or the predicted class "
                    "cannot say how likely the prediction is to be right"
                )
            if self.warehouse:
                raise ValueError(f"{key}: {_NO_WAREHOUSE}")
        multivariate = self.checks.multivariate_drift
        entries = [t for t in self.checks.thresholds if t.metric == "multivariate_drift"]
        if not (multivariate.enabled or entries):
            return
        key = "checks.multivariate_drift"
        if any(t.segments for t in entries):
            raise ValueError(
                "checks.thresholds (multivariate_drift): is judged on the whole window only "
                "(its PCA is fitted on the whole reference); remove segments:"
            )
        columns = multivariate.columns if multivariate.columns is not None else self.features.all
        unknown = [c for c in columns if c not in self.features.all]
        if unknown:
            raise ValueError(f"{key}.columns: {unknown[0]!r} is not a feature")
        if len(columns) < 2:
            raise ValueError(f"{key}: needs at least two feature columns")
        if self.warehouse:
            raise ValueError(f"{key}: {_NO_WAREHOUSE}")

    @property
    def fitted(self) -> bool:
        """Whether a scan fits estimators on the reference's rows (estimates, multivariate)."""
        names = {t.metric for t in self.checks.thresholds}
        return bool(names & set(FITTED_METRICS)) or self.checks.multivariate_drift.enabled

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
