"""Every state DB model module, imported so ``Base.metadata`` holds all tables (Alembic env).

Other areas add their module to ``MODEL_MODULES``; a module that is not installed in this
build is skipped, so the scan core runs before the alerts work is merged.
"""

from __future__ import annotations

import importlib
import importlib.util

from sqlalchemy import MetaData

from monitor.db import Base

MODEL_MODULES = ("monitor.models", "monitor.alerts.models", "monitor.run.models")


def load_metadata() -> MetaData:
    for name in MODEL_MODULES:
        if _exists(name):
            importlib.import_module(name)
    return Base.metadata


def _exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False
