"""The state DB: every table, the engine and session factories, and the migrations.

Every table module is imported here, explicitly, so ``Base.metadata`` holds the whole schema
for Alembic and for ``create_all`` in tests. Import tables and helpers from this package.
"""

from __future__ import annotations

from monitor.store import migrate
from monitor.store.alerts import (
    ALL_STATES,
    OPEN_STATES,
    SEVERITIES,
    Alert,
    AlertCondition,
    AlertEvent,
    ChannelHold,
    Notification,
    Silence,
    active_silence_end,
    silence_in_force,
)
from monitor.store.base import NAMING_CONVENTION, WHOLE_WINDOW, Base, UTCDateTime, json_type
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
    state_db_errors,
    state_session,
    unavailable_reason,
)
from monitor.store.leases import Heartbeat, Lease
from monitor.store.retrainings import (
    Retraining,
    last_retraining,
    list_retrainings,
    note_versions,
    record_retraining,
)
from monitor.store.scans import (
    SCAN_STATUSES,
    CheckResult,
    DriftCalibration,
    PerformanceEstimate,
    ReferenceProfile,
    Scan,
    ScanAttempt,
)

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
    "state_db_errors",
    "state_session",
    "unavailable_reason",
]
