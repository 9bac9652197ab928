"""What the status report reads from the state DB, for many models in a few queries.

``/api/models`` reports every configured model on each request; read one model at a time, that
was a dozen round trips per model (240 for 20 models, most of a second on PostgreSQL). Here each
table is read once for all the requested models, and the report is built from the rows in memory.
:func:`change_marker` tells when those rows may have changed, for a reader that keeps them
between requests (:mod:`monitor.status.cache`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    column,
    func,
    or_,
    select,
    tuple_,
    values,
)

from monitor import views
from monitor.alerts.queries import resolutions_by_model
from monitor.status.estimates import estimated_performance
from monitor.store import WHOLE_WINDOW, tables
from monitor.store.rows import (
    AlertConditionRow,
    AlertRow,
    CheckResultRow,
    Reader,
    RetrainingRow,
    ScanAttemptRow,
    ScanRow,
    SilenceRow,
)
from monitor.store.tables import OPEN_STATES, silence_in_force

# The Core columns, under the names of the mapped classes whose tables they are.
Alert = tables.alert.c
AlertCondition = tables.alert_condition.c
CheckResult = tables.check_result.c
PerformanceEstimate = tables.performance_estimate.c
Retraining = tables.retraining.c
Scan = tables.scan.c
ScanAttempt = tables.scan_attempt.c
Silence = tables.silence.c


@dataclass(frozen=True)
class ModelInputs:
    """One model's rows for its status report."""

    last: ScanRow | None = None  # the latest scan
    judged: ScanRow | None = None  # the latest that did not end in error
    whole: list[CheckResultRow] = field(default_factory=list)  # judged's whole-window results
    attempt: ScanAttemptRow | None = None  # a failed run newer than every successful scan
    open_alerts: list[AlertRow] = field(default_factory=list)  # newest first
    resolutions: tuple[views.CheckResolutions, ...] = ()
    conditions: list[AlertConditionRow] = field(default_factory=list)
    # judged's results of the segments whose conditions are alerting: a health reason may
    # quote one (the whole window's are in ``whole``)
    segment_results: list[CheckResultRow] = field(default_factory=list)
    maintenance: SilenceRow | None = None  # the window in force (the one ending last)
    retraining: RetrainingRow | None = None  # the latest
    estimates: views.EstimatedPerformance | None = None


_Row = TypeVar("_Row", AlertRow, AlertConditionRow)


def load_inputs(*, session: Reader, models: Sequence[str], now: datetime) -> dict[str, ModelInputs]:
    """Each of ``models``' report inputs; a model without rows gets empty inputs."""
    return with_current(load_history(session=session, models=models), session=session, now=now)


def load_history(*, session: Reader, models: Sequence[str]) -> dict[str, ModelInputs]:
    """The inputs that only scans and alert transitions change (see :func:`change_marker`);
    maintenance windows and retrainings are left empty for :func:`with_current`."""
    names = list(dict.fromkeys(models))
    if not names:
        return {}
    last, judged = _latest_scans(session, names)
    whole = _whole_window_results(session, judged)
    attempts = _failed_attempts(session, names)
    alerts = _open_alerts(session, names)
    resolved = resolutions_by_model(session=session, models=names)
    conditions = _conditions(session, names)
    segments = _alerting_segment_results(session, judged, conditions)
    estimated = _with_estimates(session, names)
    return {
        name: ModelInputs(
            last=last.get(name),
            judged=judged.get(name),
            whole=whole.get(name, []),
            attempt=attempts.get(name),
            open_alerts=alerts.get(name, []),
            resolutions=resolved.get(name, ()),
            conditions=conditions.get(name, []),
            segment_results=segments.get(name, []),
            estimates=estimated_performance(name, session=session) if name in estimated else None,
        )
        for name in names
    }


def with_current(
    history: dict[str, ModelInputs], *, session: Reader, now: datetime
) -> dict[str, ModelInputs]:
    """``history`` with each model's maintenance window in force at ``now`` and its latest
    retraining, read now: a person plans, cancels or records these without a scan."""
    names = list(history)
    if not names:
        return {}
    windows = _maintenance(session, names, now)
    retrainings = _retrainings(session, names)
    return {
        name: replace(rows, maintenance=windows.get(name), retraining=retrainings.get(name))
        for name, rows in history.items()
    }


def change_marker(*, session: Reader, watch: Sequence[int] = ()) -> tuple[object, ...]:
    """Values that change whenever :func:`load_history`'s answer may, in one statement on
    primary keys and the few open alerts: a scan stored (a new id), replaced (new result
    ids) or pruned by retention (the lowest id), a failed run, an alert raised, moved (every
    transition bumps its version) or resolved (it leaves the open ones; a resolved alert
    never changes again), a condition added, updated or dropped, a performance estimate
    stored or its realised value filled in. The last element is the
    newest finish time among the ``watch`` scans (the latest of each model): a re-run of a
    window keeps its scan's id, and one that stores no results is seen only there."""
    open_alerts = Alert.state.in_(OPEN_STATES)
    parts = (
        select(func.max(Scan.id)),
        select(func.min(Scan.id)),
        select(func.max(CheckResult.id)),
        select(func.max(ScanAttempt.id)),
        select(func.max(Alert.id)),
        select(func.count(Alert.id)).where(open_alerts),
        select(func.sum(Alert.version)).where(open_alerts),
        select(func.count(AlertCondition.id)),
        select(func.max(AlertCondition.updated_at)),
        # estimates: stored with a scan, their realised value filled in by a later one
        select(func.max(PerformanceEstimate.id)),
        select(func.count(PerformanceEstimate.realised)),
        select(func.max(Scan.finished_at)).where(Scan.id.in_(list(watch))),
    )
    return tuple(session.execute(select(*(p.scalar_subquery() for p in parts))).one())


def watched(history: dict[str, ModelInputs]) -> tuple[list[int], datetime | None]:
    """The latest scans' ids in ``history`` and their newest finish time, as read with them."""
    lasts = [rows.last for rows in history.values() if rows.last is not None]
    return sorted(s.id for s in lasts), max((s.finished_at for s in lasts), default=None)


def _latest_scans(
    session: Reader, names: list[str]
) -> tuple[dict[str, ScanRow], dict[str, ScanRow]]:
    """Per model: the latest scan and the latest not in error.

    One statement: for each name of a VALUES list, two correlated scalar subqueries, each the
    first row of a backward walk of the unique (model, window_end) index: a year of daily
    scans costs what one day does. (A GROUP BY with conditional maxima read every scan row of
    the model, JSON included; two subqueries written out per model cost SQLAlchemy 10 ms to
    compile for 20 models, this form the same for any number.)"""

    scan = Scan
    listed = values(column("name", scan.model.type), name="names").data([(n,) for n in names])
    model = listed.cte("names").c.name

    def newest(*where: ColumnElement[bool]) -> ScalarSelect[int]:
        query = select(scan.id).where(scan.model == model, *where)
        return query.order_by(scan.window_end.desc()).limit(1).scalar_subquery()

    found = {
        name: (last_id, judged_id)
        for name, last_id, judged_id in session.execute(
            select(model, newest(), newest(scan.status != "error"))
        )
    }
    last_ids = {name: found[name][0] for name in names}
    judged_ids = {name: found[name][1] for name in names}
    wanted = {i for i in (*last_ids.values(), *judged_ids.values()) if i is not None}
    if not wanted:
        return {}, {}
    rows = session.execute(select(tables.scan).where(Scan.id.in_(wanted)))
    by_id: dict[int, ScanRow] = {s.id: s for s in rows}
    last = {m: by_id[i] for m, i in last_ids.items() if i in by_id}
    judged = {m: by_id[i] for m, i in judged_ids.items() if i in by_id}
    return last, judged


def _whole_window_results(
    session: Reader, judged: dict[str, ScanRow]
) -> dict[str, list[CheckResultRow]]:
    """The whole-window results of each judged scan, by check: the report reads no segment's
    (a segmented scan stores more per-segment rows than whole-window ones)."""
    model_of = {scan.id: model for model, scan in judged.items()}
    if not model_of:
        return {}
    rows = session.execute(
        select(tables.check_result)
        .where(CheckResult.scan_id.in_(model_of), CheckResult.segment == WHOLE_WINDOW)
        .order_by(CheckResult.scan_id, CheckResult.id)
    )
    found: dict[str, list[CheckResultRow]] = {}
    for row in rows:
        found.setdefault(model_of[row.scan_id], []).append(row)
    return found


def _alerting_segment_results(
    session: Reader, judged: dict[str, ScanRow], conditions: dict[str, list[AlertConditionRow]]
) -> dict[str, list[CheckResultRow]]:
    """Each judged scan's results of the segments whose conditions are warning or critical."""
    wanted = [
        (judged[model].id, c.check_id, c.segment)
        for model, rows in conditions.items()
        if model in judged
        for c in rows
        if c.segment != WHOLE_WINDOW and c.state in ("warning", "critical")
    ]
    if not wanted:
        return {}
    model_of = {scan.id: model for model, scan in judged.items()}
    key = tuple_(CheckResult.scan_id, CheckResult.check, CheckResult.segment)
    rows = session.execute(
        select(tables.check_result).where(key.in_(wanted)).order_by(CheckResult.id)
    )
    found: dict[str, list[CheckResultRow]] = {}
    for row in rows:
        found.setdefault(model_of[row.scan_id], []).append(row)
    return found


def _failed_attempts(session: Reader, names: list[str]) -> dict[str, ScanAttemptRow]:
    """The latest failed run of each model, unless a scan has succeeded since (then it is
    history, not news). Failed runs are rare: the second query runs only for them."""
    latest = (
        select(ScanAttempt.model, func.max(ScanAttempt.finished_at).label("at"))
        .where(ScanAttempt.model.in_(names))
        .group_by(ScanAttempt.model)
        .subquery()
    )
    rows = session.execute(
        select(tables.scan_attempt)
        .join(
            latest,
            and_(ScanAttempt.model == latest.c.model, ScanAttempt.finished_at == latest.c.at),
        )
        .order_by(ScanAttempt.id)
    ).all()
    found = {row.model: row for row in rows}  # the highest id of equal finish times wins
    if not found:
        return {}
    since = [
        and_(Scan.model == row.model, Scan.finished_at >= row.finished_at) for row in found.values()
    ]
    succeeded = set(
        session.scalars(select(Scan.model).where(Scan.status != "error", or_(*since)).distinct())
    )
    return {model: row for model, row in found.items() if model not in succeeded}


def _open_alerts(session: Reader, names: list[str]) -> dict[str, list[AlertRow]]:
    rows = session.execute(
        select(tables.alert)
        .where(Alert.model.in_(names), Alert.state.in_(OPEN_STATES))
        .order_by(Alert.id.desc())
    ).all()
    return _by_model(rows)


def _conditions(session: Reader, names: list[str]) -> dict[str, list[AlertConditionRow]]:
    rows = session.execute(
        select(tables.alert_condition)
        .where(AlertCondition.model.in_(names))
        .order_by(AlertCondition.model, AlertCondition.check_id)
    ).all()
    return _by_model(rows)


def _by_model(rows: Sequence[_Row]) -> dict[str, list[_Row]]:
    """``rows`` grouped by their model, in the order given."""
    found: dict[str, list[_Row]] = {}
    for row in rows:
        found.setdefault(row.model, []).append(row)
    return found


def _maintenance(session: Reader, names: list[str], now: datetime) -> dict[str, SilenceRow]:
    rows = session.execute(
        select(tables.silence)
        .where(Silence.model.in_(names), silence_in_force(now))
        .order_by(Silence.ends_at, Silence.id)
    ).all()
    return {row.model: row for row in rows}  # the one ending last wins


def _retrainings(session: Reader, names: list[str]) -> dict[str, RetrainingRow]:
    latest = (
        select(Retraining.model, func.max(Retraining.retrained_at).label("at"))
        .where(Retraining.model.in_(names))
        .group_by(Retraining.model)
        .subquery()
    )
    rows = session.execute(
        select(tables.retraining)
        .join(
            latest, and_(Retraining.model == latest.c.model, Retraining.retrained_at == latest.c.at)
        )
        .order_by(Retraining.id)
    ).all()
    return {row.model: row for row in rows}  # the highest id of equal times wins


def _with_estimates(session: Reader, names: list[str]) -> set[str]:
    """The models that have performance estimates at all (most have none)."""
    query = (
        select(PerformanceEstimate.model)
        .where(PerformanceEstimate.model.in_(names))
        .group_by(PerformanceEstimate.model)
    )
    return set(session.scalars(query))
