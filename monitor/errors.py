"""Errors of the service. Each message names the model, column, file or key at fault."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MonitorError(Exception):
    """Base of every error the CLI reports as one line with exit code 2."""


class ConfigError(MonitorError):
    """The configuration file is missing, malformed or refers to something that does not exist."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``, did you mean 'churn'?`` for a misspelt name: the closest of ``choices``, if any."""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f", did you mean {close[0]!r}?" if close else ""
