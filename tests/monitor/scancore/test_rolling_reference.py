"""``reference: {previous: 1d}`` with ``window: 1d``: the reference of the scan of day N+1 is
the live window of the scan of day N, which that scan read and summarised. It is stored under
the fingerprint of the window's contents (row count, newest timestamp, labelled rows) counted
before the read, so the next scan uses it without reading the period, and late rows or labels
in that period change the fingerprint, so the period is read again.
"""

from __future__ import annotations

import pytest
from scipy import stats
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.scans.summary import summarise, to_bytes
from monitor.sources import ModelLog, ReferenceReader
from monitor.store import DriftCalibration, ReferencePayload, ReferenceProfile, Scan
from monitor.windows import Window
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write
from tests.monitor.scancore.test_scan import Engines, _results, _scan


def _rolling(
    db_url: str, overrides: dict[str, str] | None = None, *, evidently: bool = True
) -> Config:
    model = model_dict(reference={"previous": "1d"}, **(overrides or {}))
    return make_config(db_url, model, evidently=evidently)


def _verdicts(scan: Scan) -> dict[str, tuple[float | None, bool | None]]:
    return {c: (r.value, r.passed) for c, r in _results(scan).items()}


def _forget(session: Session) -> None:
    """A fresh state DB: no scans, no cached summaries."""
    for table in (Scan, ReferenceProfile, DriftCalibration):
        session.execute(delete(table))
    session.commit()
    session.expunge_all()


def test_next_scan_uses_the_live_window_summary_of_the_previous_scan(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 72, seed=5)
    write(engine, frame, "preds")
    config = _rolling(db_url)
    first = _scan(config, engines_for, session, 2)  # live day 1, reference day 0
    second = _scan(config, engines_for, session, 3)  # live day 2, reference day 1 (kept)
    assert (first.reference["cached"], second.reference["cached"]) == (False, True)
    assert second.reference["start"] == "2026-03-02T00:00:00Z"
    # the same verdicts and values as when the reference period is read from the rows
    kept = _verdicts(second)
    _forget(session)
    read = _scan(config, engines_for, session, 3)
    assert read.reference["cached"] is False
    assert kept == _verdicts(read)
    # and the oracle: day 1 against day 2
    ts = frame["ts"]
    reference = frame[(ts >= day(1).replace(tzinfo=None)) & (ts < day(2).replace(tzinfo=None))]
    live = frame[ts >= day(2).replace(tzinfo=None)]
    assert kept["drift:age"][0] == pytest.approx(stats.ks_2samp(reference.age, live.age).pvalue)
    assert second.rows_reference == len(reference)


def test_a_kept_summary_is_used_without_writing_its_row(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    """The scan that uses a kept summary leaves its row as it is: no UPDATE of
    ``reference_profile`` (on SQLite one rewrites the whole row, the summary included), only
    the insert of its own window's summary and the delete of the one no scan needs now."""
    write(engine, log_frame(T0, 72, seed=12), "preds")
    config = _rolling(db_url)
    _scan(config, engines_for, session, 2)
    before = session.execute(select(ReferenceProfile.id, ReferenceProfile.checked_at)).all()
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "reference_profile" in statement:
            seen.append(statement.split(None, 1)[0].upper())

    state = session.get_bind()
    event.listen(state, "before_cursor_execute", record)
    try:
        second = _scan(config, engines_for, session, 3)
    finally:
        event.remove(state, "before_cursor_execute", record)
    assert second.reference["cached"] is True
    assert "UPDATE" not in seen
    assert "INSERT" in seen  # its own live window, kept for the next day
    session.expire_all()
    kept = dict(session.execute(select(ReferenceProfile.id, ReferenceProfile.checked_at)).all())
    assert kept[before[0].id] == before[0].checked_at


@pytest.mark.parametrize("evidently", [True, False], ids=["evidently", "calibrated"])
@pytest.mark.parametrize(
    "overrides",
    [{}, {"segment": "region"}, {"prediction": None}],
    ids=["plain", "segments", "score-as-prediction"],
)
def test_kept_summary_is_the_summary_of_the_period_read_from_its_rows(
    db_url: str,
    engine: Engine,
    engines_for: Engines,
    session: Session,
    evidently: bool,
    overrides: dict[str, str | None],
) -> None:
    """The kept summary reuses what the scan's checks made from the live rows (sorted
    columns, performance metrics); it is byte for byte the summary of the period's rows."""
    write(engine, log_frame(T0, 72, seed=11), "preds")
    config = _rolling(db_url, overrides, evidently=evidently)  # type: ignore[arg-type]
    _scan(config, engines_for, session, 2)  # live day 1, kept for the scan of day 2
    kept = session.scalars(select(ReferenceProfile)).one()
    assert kept.descriptor["start"] == "2026-03-02T00:00:00Z"
    model = config.model("churn")
    reader = ReferenceReader(ModelLog(model, engines_for(config)))
    rows = reader.load(Window(day(2), day(3)))  # its reference period: day 1
    read = summarise(model, rows)
    stored = session.scalar(
        select(ReferencePayload.profiles).where(ReferencePayload.profile_id == kept.id)
    )
    assert stored is not None
    assert bytes(stored) == bytes(to_bytes(read))
    assert kept.metrics == {k: s.metrics for k, s in read.slices.items()}
    assert kept.descriptor["rows"] == {k: s.rows for k, s in read.slices.items()}
    assert len(read.slices) == (3 if "segment" in overrides else 1)


def test_late_rows_in_the_kept_window_are_read_again(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 72, seed=6)
    write(engine, frame, "preds")
    config = _rolling(db_url)
    _scan(config, engines_for, session, 2)
    late = log_frame(day(1), 2, seed=7)  # rows of day 1 logged after its scan
    late["id"] += 100_000
    late.to_sql("preds", engine, index=False, if_exists="append")
    second = _scan(config, engines_for, session, 3)
    assert second.reference["cached"] is False
    assert second.rows_reference == 24 * 20 + len(late)


def test_late_labels_in_the_kept_window_are_read_again(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    frame = log_frame(T0, 72, seed=8)
    day1 = (frame["ts"] >= day(1).replace(tzinfo=None)) & (
        frame["ts"] < day(2).replace(tzinfo=None)
    )
    waiting = frame["id"][day1].iloc[:50]
    frame["label"] = frame["label"].astype("Int64").mask(frame["id"].isin(waiting))
    write(engine, frame, "preds")
    config = _rolling(db_url)
    _scan(config, engines_for, session, 2)
    with engine.begin() as conn:  # the labels arrive
        conn.execute(
            text(f"UPDATE preds SET label = 1 WHERE id IN ({','.join(map(str, waiting))})")
        )
    second = _scan(config, engines_for, session, 3)
    assert second.reference["cached"] is False


@pytest.mark.parametrize(
    "overrides",
    [{"window": "12h"}, {"label_delay": "1h"}],
    ids=["other-period-length", "labels-read-apart"],
)
def test_live_window_is_not_kept_when_it_cannot_be_the_next_reference(
    db_url: str,
    engine: Engine,
    engines_for: Engines,
    session: Session,
    overrides: dict[str, str],
) -> None:
    write(engine, log_frame(T0, 72, seed=9), "preds")
    config = _rolling(db_url, overrides)
    for at in (2, 3):
        assert _scan(config, engines_for, session, at).reference["cached"] is False
    # nothing stored: a rolling period read from its rows is not kept either
    assert session.scalar(select(func.count()).select_from(ReferenceProfile)) == 0


def test_kept_summaries_of_older_periods_are_dropped(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 24 * 5, seed=10), "preds")
    config = _rolling(db_url, evidently=False)  # calibrated: thresholds cached per reference
    for at in (2, 3, 4, 5):
        _scan(config, engines_for, session, at)
    periods = sorted(d["start"] for d in session.scalars(select(ReferenceProfile.descriptor)))
    # the last scan's reference (day 3) and its live window (day 4), nothing older
    assert periods == ["2026-03-04T00:00:00Z", "2026-03-05T00:00:00Z"]
    fingerprints = set(session.scalars(select(ReferenceProfile.fingerprint)))
    calibrated = set(session.scalars(select(DriftCalibration.fingerprint)))
    assert calibrated and calibrated <= fingerprints
    assert session.scalar(select(func.count()).select_from(Scan)) == 4
