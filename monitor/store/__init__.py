"""The state DB: every table, the engine and session factories, and the migrations.

The tables are Core ``Table`` objects in :mod:`monitor.store.tables` (``tables.metadata`` is the
whole schema, for Alembic and for ``create_all`` in tests). The ORM classes mapped onto them
(``Alert``, ``Scan``, ...) and the service functions beside them are loaded on first use (module
``__getattr__``): a command that only reads through :func:`state_connection` never imports
``sqlalchemy.orm``. Import tables and helpers from this package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from monitor.store import migrate, tables
from monitor.store.base import NAMING_CONVENTION, WHOLE_WINDOW, UTCDateTime, json_type
from monitor.store.engine import (
    MAX_ID,
    SQLITE_BUSY_TIMEOUT_MS,
    UNAVAILABLE,
    PoolSettings,
    StateDBError,
    id_in_range,
    make_engine,
    make_sessionmaker,
    pool_options,
    shown_url,
    state_connection,
    state_db_errors,
    state_session,
    state_writer,
    unavailable_reason,
)
from monitor.store.tables import (
    ALL_STATES,
    OPEN_STATES,
    SCAN_STATUSES,
    SEVERITIES,
    active_silence_end,
    silence_in_force,
)

if TYPE_CHECKING:
    from monitor.store.alerts import (
        Alert,
        AlertCondition,
        AlertEvent,
        ChannelHold,
        Notification,
        Silence,
    )
    from monitor.store.leases import Heartbeat, Lease
    from monitor.store.orm import Base
    from monitor.store.retrainings import (
        Retraining,
        last_retraining,
        list_retrainings,
        note_versions,
        record_retraining,
    )
    from monitor.store.scans import (
        CheckResult,
        DriftCalibration,
        PerformanceEstimate,
        ReferencePayload,
        ReferenceProfile,
        Scan,
        ScanAttempt,
    )

#: the module of each name loaded on first use (every mapped class, so all are mapped together)
_LAZY = {
    **dict.fromkeys(
        (
            "Alert",
            "AlertCondition",
            "AlertEvent",
            "ChannelHold",
            "Notification",
            "Silence",
        ),
        "monitor.store.alerts",
    ),
    **dict.fromkeys(("Heartbeat", "Lease"), "monitor.store.leases"),
    "Base": "monitor.store.orm",
    **dict.fromkeys(
        ("Retraining", "last_retraining", "list_retrainings", "note_versions", "record_retraining"),
        "monitor.store.retrainings",
    ),
    **dict.fromkeys(
        (
            "CheckResult",
            "DriftCalibration",
            "PerformanceEstimate",
            "ReferencePayload",
            "ReferenceProfile",
            "Scan",
            "ScanAttempt",
        ),
        "monitor.store.scans",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for every in dict.fromkeys(_LAZY.values()):  # all mapped classes at once: relationships
        import_module(every)
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ALL_STATES",
    "MAX_ID",
    "NAMING_CONVENTION",
    "OPEN_STATES",
    "SCAN_STATUSES",
    "SEVERITIES",
    "SQLITE_BUSY_TIMEOUT_MS",
    "UNAVAILABLE",
    "WHOLE_WINDOW",
    "Alert",
    "AlertCondition",
    "AlertEvent",
    "Base",
    "ChannelHold",
    "CheckResult",
    "DriftCalibration",
    "Heartbeat",
    "Lease",
    "Notification",
    "PerformanceEstimate",
    "PoolSettings",
    "ReferencePayload",
    "ReferenceProfile",
    "Retraining",
    "Scan",
    "ScanAttempt",
    "Silence",
    "StateDBError",
    "UTCDateTime",
    "active_silence_end",
    "id_in_range",
    "json_type",
    "last_retraining",
    "list_retrainings",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "note_versions",
    "pool_options",
    "record_retraining",
    "shown_url",
    "silence_in_force",
    "state_connection",
    "state_db_errors",
    "state_session",
    "state_writer",
    "tables",
    "unavailable_reason",
]
