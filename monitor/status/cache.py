"""The status report for a long-running reader (the HTTP API), without re-reading history.

Most of what ``/api/models`` reads (latest scans and their results, open alerts, resolution
tallies, conditions, estimates) changes only when a scan is stored or an alert moves, while the
dashboard asks every few seconds. :class:`StatusCache` keeps those rows between requests and
re-reads them when :func:`~monitor.status.inputs.change_marker` differs, which it checks on every
request in one statement: a new scan or an acknowledgement, from this process or another
replica, shows on the next request. The marker is read before the rows, so a write landing in
between makes the next request read again rather than keep older rows under a newer marker.
What depends on the clock (staleness, next scan, the maintenance window in force) and what a
person changes without a scan (maintenance windows, retrainings) is computed per request.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy.orm import Session

from monitor import views
from monitor.alerts.delivery_state import notifier_delivery
from monitor.config.schema import Config, ModelConfig
from monitor.status.inputs import (
    ModelInputs,
    change_marker,
    load_history,
    watched,
    with_current,
)
from monitor.status.report import history_status, with_clock
from monitor.windows import isoformat_z


class StatusCache:
    """One process's copy of every configured model's history (thread-safe): its rows and
    the parts of its report they decide."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._history: dict[str, ModelInputs] = {}
        self._bases: dict[str, views.ModelStatus] = {}
        self._watch: list[int] = []
        self.reads = 0  # how many times the history was read (for tests)

    def report(self, config: Config, *, session: Session, now: datetime) -> views.StatusReport:
        """:func:`monitor.status.status_report` of every configured model."""
        rows, bases = self._current(config, session=session, now=now)
        return views.StatusReport(
            generated_at=isoformat_z(now),
            models=[with_clock(bases[m.name], m, rows[m.name], now=now) for m in config.models],
            delivery=notifier_delivery(session=session, names=config.notifier_names()),
        )

    def model_status(
        self, config: Config, model: ModelConfig, *, session: Session, now: datetime
    ) -> views.ModelStatus:
        """:func:`monitor.status.model_status` of one configured model."""
        rows, bases = self._current(config, session=session, now=now)
        return with_clock(bases[model.name], model, rows[model.name], now=now)

    def _current(
        self, config: Config, *, session: Session, now: datetime
    ) -> tuple[dict[str, ModelInputs], dict[str, views.ModelStatus]]:
        models = tuple(m.name for m in config.models)
        with self._lock:
            marker = change_marker(session=session, watch=self._watch)
            if (id(config), models, marker) != self._key:
                history = load_history(session=session, models=models)
                # The watched scans' finish times as read with the rows, so the next request
                # agrees unless one was re-run since (the rest of the marker was read first).
                self._watch, finished = watched(history)
                self._key = (id(config), models, (*marker[:-1], finished))
                self._history = history
                self._bases = {m.name: history_status(m, history[m.name]) for m in config.models}
                self.reads += 1
            history, bases = self._history, self._bases
        return with_current(history, session=session, now=now), bases
