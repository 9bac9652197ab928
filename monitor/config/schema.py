"""The configuration file's shape, validated with pydantic.

Field names are the YAML keys. Secrets are ``SecretStr`` so neither errors nor reprs echo
them. Cross-field rules (a model's source exists, a threshold's column is configured) live in
validators here; that tables and columns exist in the source is checked by
:func:`monitor.sources.validate.check_model` (``monitor config check``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    ByteSize,
    Field,
    SecretStr,
    field_validator,
)

from monitor.config.checks import (
    CLASSIFICATION_METRICS,
    ESTIMATED_METRICS,
    FITTED_METRICS,
    KNOWN_METRICS,
    LABEL_CLASSIFICATION_METRICS,
    LABEL_METRICS,
    LATENCY_METRICS,
    MULTIVARIATE_DRIFT,
    OPERATIONAL_METRICS,
    PERFORMANCE_METRICS,
    PROBABILITY_METRICS,
    REGRESSION_METRICS,
    AlertSettings,
    Checks,
    ColumnDrift,
    DriftChecks,
    MultivariateDrift,
    SeverityReminders,
    Threshold,
)
from monitor.config.model import (
    BetweenReference,
    EverySchedule,
    Features,
    FileReference,
    LabelsJoin,
    ModelConfig,
    PreviousReference,
    Reference,
    TableReference,
)
from monitor.config.notify import NotifyEntry, SmtpConfig, destinations, notify_problems
from monitor.config.types import (
    Duration,
    Identifier,
    Instant,
    NonNegativeDuration,
    PositiveDuration,
    Severity,
    Strict,
    Task,
    TimeZone,
    secret_url,
    sqlalchemy_url,
)
from monitor.errors import ConfigError, did_you_mean
from monitor.windows import validate_cron

__all__ = [
    "CLASSIFICATION_METRICS",
    "ESTIMATED_METRICS",
    "FITTED_METRICS",
    "KNOWN_METRICS",
    "LABEL_CLASSIFICATION_METRICS",
    "LABEL_METRICS",
    "LATENCY_METRICS",
    "MULTIVARIATE_DRIFT",
    "OPERATIONAL_METRICS",
    "PERFORMANCE_METRICS",
    "PROBABILITY_METRICS",
    "REGRESSION_METRICS",
    "AlertSettings",
    "ApiConfig",
    "BetweenReference",
    "Checks",
    "ColumnDrift",
    "Config",
    "DriftChecks",
    "Duration",
    "EverySchedule",
    "Features",
    "FileReference",
    "Identifier",
    "Instant",
    "LabelsJoin",
    "ModelConfig",
    "MultivariateDrift",
    "PoolConfig",
    "PreviousReference",
    "Reference",
    "RetentionConfig",
    "RunConfig",
    "Severity",
    "SeverityReminders",
    "SeverityRoute",
    "SlackConfig",
    "SourceConfig",
    "Strict",
    "TableReference",
    "Task",
    "Threshold",
    "TimeZone",
]


class PoolConfig(Strict):
    """Bounds of one database's connection pool: ``size`` kept open, up to ``max_overflow``
    more under load, and how long a caller waits for one (then it gets an error, never a
    hang). Applies where the driver pools (PostgreSQL, a SQLite file, most warehouses)."""

    size: int = Field(default=10, ge=1, le=1000)
    max_overflow: int = Field(default=10, ge=0, le=1000)
    timeout: Duration = timedelta(seconds=10)


class SourcePoolConfig(PoolConfig):
    """A source's pool: scans wait longer for a connection than API requests do."""

    size: int = Field(default=5, ge=1, le=1000)
    timeout: Duration = timedelta(seconds=30)


class SourceConfig(Strict):
    url: Annotated[SecretStr, AfterValidator(secret_url)]
    timezone: TimeZone = "UTC"
    # PostgreSQL's fast path reads a window as this many consecutive time slices at once,
    # each on its own connection (the server runs one backend per slice).
    parallel_reads: int = Field(default=2, ge=1, le=16)
    # The longest one source query may run (PostgreSQL's statement_timeout; see
    # docs/config.md for other databases); null: no limit.
    statement_timeout: Duration | None = timedelta(minutes=5)

    @field_validator("statement_timeout")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be positive (or null for no limit)")
        return value

    pool: SourcePoolConfig = SourcePoolConfig()


class SeverityRoute(Strict):
    channel: str | None = None
    mention: str | None = None


class DigestConfig(Strict):
    """The scheduled health digest (``monitor.slack.digest.post_digest``): a cron in UTC."""

    schedule: str
    channel: str | None = None  # default: slack.channel

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        validate_cron(value)
        return value


class SlackConfig(Strict):
    token: SecretStr
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    channel: str
    critical: SeverityRoute = SeverityRoute()
    warning: SeverityRoute = SeverityRoute()
    digest: DigestConfig | None = None
    # Web API base URL; only for Slack-compatible gateways (and the fake Slack of the tests).
    api_url: str | None = None

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
    # Request bodies above this are refused (413) before they are read: 1MiB, 200KB, 4096.
    # /slack/actions is capped at 64 KiB whatever this says.
    max_body: Annotated[ByteSize, Field(gt=0)] = ByteSize(1024 * 1024)


class RetentionConfig(Strict):
    scans: PositiveDuration = timedelta(days=180)
    notifications: PositiveDuration = timedelta(days=30)


class RunConfig(Strict):
    """``monitor run``: how often ``tick`` runs, leases, catch-up and shutdown bounds."""

    tick_every: PositiveDuration = timedelta(minutes=1)
    lease: PositiveDuration = timedelta(
        seconds=60
    )  # a dead replica's scan is taken over after this
    catch_up: int = Field(default=24, ge=1)  # windows per model scanned after a gap, oldest first
    # A catch-up of more windows than this is a backfill: notifications held for its end.
    backfill_after: int = Field(default=3, ge=1)
    shutdown_timeout: NonNegativeDuration = timedelta(seconds=30)


class Config(Strict):
    state_db: Annotated[str, AfterValidator(sqlalchemy_url)] = "sqlite:///monitor.db"
    # Shared by the scheduler, tick, lease renewals and the API in `monitor run`.
    state_db_pool: PoolConfig = PoolConfig()
    sources: dict[str, SourceConfig] = {}
    slack: SlackConfig | None = None
    # Where alerts go (docs/integrations.md); a model's own notify: list replaces this one.
    notify: list[NotifyEntry] | None = None
    smtp: SmtpConfig | None = None
    api: ApiConfig = ApiConfig()
    retention: RetentionConfig = RetentionConfig()
    run: RunConfig = RunConfig()
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
        problems += [("notify", p) for p in notify_problems(self.notify_lists(), **self._has())]
        return problems

    def notify_lists(self) -> dict[str, list[NotifyEntry]]:
        """Every ``notify:`` list by where it is written (``notify``, ``models[churn].notify``)."""
        lists = {"notify": self.notify} if self.notify is not None else {}
        for model in self.models:
            if model.notify is not None:
                lists[f"models[{model.name}].notify"] = model.notify
        return lists

    def notifier_names(self) -> list[str]:
        """Every notifier this config delivers through: the thread's (``slack``, or ``console``
        without a ``slack:`` section), then each other destination by its outbox channel."""
        thread = "slack" if self.slack is not None else "console"
        return [thread, *sorted(destinations(list(self.notify_lists().values())))]

    def _has(self) -> dict[str, bool]:
        return {"slack": self.slack is not None, "smtp": self.smtp is not None}

    def model(self, name: str) -> ModelConfig:
        for model in self.models:
            if model.name == name:
                return model

        names = [m.name for m in self.models]
        hint = did_you_mean(name, names)
        raise ConfigError(f"unknown model {name!r}{hint}; known: {', '.join(names) or 'none'}")
