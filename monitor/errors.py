"""Errors of the service. Each message names the model, column, file or key at fault."""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error the CLI reports as one line with exit code 2."""


class ConfigError(MonitorError):
    """The configuration file is missing, malformed or refers to something that does not exist."""
