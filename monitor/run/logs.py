"""Structured logs: one JSON object per line on stderr, with every configured secret masked.

Fields passed as ``extra={...}`` become keys of the line. Secrets (tokens, signing
secrets, passwords inside source and state DB URLs) are collected from the config and
replaced by ``***`` in every line, whatever logged them (our code, SQLAlchemy, uvicorn).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from monitor.config import config_secrets
from monitor.redact import redact

if TYPE_CHECKING:
    from monitor.config.schema import Config

LOGGER = "monitor.run"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self.mask(json.dumps(line, default=str))

    def mask(self, text: str) -> str:
        return redact(text, self.secrets)


def setup_logging(
    config: Config, *, stream: TextIO | None = None, level: int = logging.INFO
) -> None:
    """Send every logger's records through one JSON handler that masks ``config``'s secrets."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(config_secrets(config)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # "skipped: maximum number of running instances" is expected: the next run catches up.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def logger() -> logging.Logger:
    return logging.getLogger(LOGGER)
