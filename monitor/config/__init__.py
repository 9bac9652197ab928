"""Configuration: one YAML file, ``${VAR}`` substitution, pydantic validation."""

from __future__ import annotations

from monitor.config.load import (
    config_path,
    config_secrets,
    load_config,
    model_config_hash,
    open_config,
    parse_config,
)
from monitor.config.schema import (
    AlertSettings,
    BetweenReference,
    Checks,
    Config,
    DriftChecks,
    FileReference,
    LabelsJoin,
    ModelConfig,
    PreviousReference,
    SlackConfig,
    SourceConfig,
    TableReference,
    Threshold,
)

__all__ = [
    "AlertSettings",
    "BetweenReference",
    "Checks",
    "Config",
    "DriftChecks",
    "FileReference",
    "LabelsJoin",
    "ModelConfig",
    "PreviousReference",
    "SlackConfig",
    "SourceConfig",
    "TableReference",
    "Threshold",
    "config_path",
    "config_secrets",
    "load_config",
    "model_config_hash",
    "open_config",
    "parse_config",
]
