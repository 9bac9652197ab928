"""Errors of the checks library. Messages name the check, method or column at fault."""

from __future__ import annotations

from collections.abc import Iterable


class ChecksError(Exception):
    """Base of every error raised by the checks library."""


class UnknownNameError(ChecksError, LookupError):
    """A method, metric or check name that is not registered; the message lists the known ones."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(self.known)}")


class ColumnError(ChecksError):
    """A column that is missing, of the wrong type, or unusable for the requested method."""

    def __init__(self, column: str, problem: str) -> None:
        self.column = column
        super().__init__(f"column {column!r}: {problem}")
