"""``reference.refresh``: how often a fixed reference's contents are checked for changes.

A scan within ``refresh`` of the last check reuses the cached profile without counting the
reference (a COUNT over a 1M-row period cost ~1.4 s of every scan); the first scan after it
checks the contents again and uses the changed rows. The check time is moved back in the
state DB instead of waiting, so the tests are independent of the clock.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.config import Config
from monitor.errors import ConfigError
from monitor.scans import run_scan, store_scan
from monitor.store import ReferenceProfile, Scan
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write
from tests.monitor.scancore.test_scan import Engines


def _scan(config: Config, engines_for: Engines, session: Session, at_day: float) -> Scan:
    report = run_scan(
        config.model("churn"), day(at_day), engines=engines_for(config), session=session
    )
    scan = store_scan(report, session=session)
    session.commit()
    return scan


def _config(db_url: str, **reference: Any) -> Config:
    between = {"between": ["2026-03-01", "2026-03-02"]}
    return make_config(db_url, model_dict(reference=between | reference))


def _add_reference_rows(engine: Engine) -> None:
    late = log_frame(T0, 12, seed=9)
    late["id"] += 100_000
    late.to_sql("preds", engine, index=False, if_exists="append")


def _age_checks(session: Session, by: timedelta) -> None:
    for profile in session.scalars(select(ReferenceProfile)):
        assert profile.checked_at is not None
        profile.checked_at -= by
    session.commit()


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.lower())

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_a_fixed_period_is_not_counted_again_within_its_refresh(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 96), "preds")
    config = _config(db_url, refresh="1d")
    first = _scan(config, engines_for, session, 2)
    _add_reference_rows(engine)
    engines = engines_for(config)
    statements = _statements(engines.engine("logs"))
    report = run_scan(config.model("churn"), day(3), engines=engines, session=session)
    second = store_scan(report, session=session)
    session.commit()
    assert (first.reference["cached"], second.reference["cached"]) == (False, True)
    assert second.rows_reference == first.rows_reference  # the added rows are not seen yet
    assert not [s for s in statements if "max(preds.ts)" in s]  # no fingerprint of the period
    _age_checks(session, timedelta(days=1))
    third = _scan(config, engines_for, session, 4)
    assert third.reference["cached"] is False
    assert third.rows_reference == (first.rows_reference or 0) + 12 * 20


def test_refresh_always_checks_the_contents_on_every_scan(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 96), "preds")
    config = _config(db_url, refresh="always")
    first = _scan(config, engines_for, session, 2)
    assert _scan(config, engines_for, session, 3).reference["cached"] is True  # unchanged
    _add_reference_rows(engine)
    second = _scan(config, engines_for, session, 4)
    assert second.reference["cached"] is False
    assert second.rows_reference == (first.rows_reference or 0) + 12 * 20


def test_refresh_never_keeps_the_first_summary(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 96), "preds")
    config = _config(db_url, refresh="never")
    first = _scan(config, engines_for, session, 2)
    _add_reference_rows(engine)
    _age_checks(session, timedelta(days=3650))
    second = _scan(config, engines_for, session, 3)
    assert second.reference["cached"] is True and second.rows_reference == first.rows_reference


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_changed_file_is_seen_by_the_next_scan_within_its_refresh(
    db_url: str,
    engine: Engine,
    engines_for: Engines,
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
) -> None:
    """A file is not hashed while its size, times and inode are those of its last check
    (``refresh`` 1d); a rewrite, even to the same size, is hashed and read by the next scan;
    a file only touched is hashed, found unchanged, and its summary reused."""
    from monitor.sources import reference

    hashed: list[Path] = []
    real_hash = reference._file_hash
    monkeypatch.setattr(reference, "_file_hash", lambda p: hashed.append(p) or real_hash(p))
    write(engine, log_frame(T0, 96), "preds")
    path = tmp_path / f"train{suffix}"

    def save(seed: int) -> None:
        train = log_frame(T0, 10, seed=seed).drop(columns=["id", "ts"])
        train.to_parquet(path) if suffix == ".parquet" else train.to_csv(path, index=False)

    save(seed=1)
    config = make_config(db_url, model_dict(reference={"file": str(path)}))
    first = _scan(config, engines_for, session, 2)
    assert (first.reference["cached"], len(hashed)) == (False, 1)
    assert _scan(config, engines_for, session, 3).reference["cached"] is True
    assert len(hashed) == 1  # unchanged stamp: neither hashed nor read
    before = _results(first)
    if suffix == ".parquet":
        save(seed=2)  # same rows, other values
    else:  # other digits in place: the same size, and its modification time put back
        old = path.stat()
        path.write_text(path.read_text().translate(str.maketrans("34", "43")))
        os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (old.st_size, old.st_mtime_ns)
    changed = _scan(config, engines_for, session, 4)
    assert (changed.reference["cached"], len(hashed)) == (False, 2)
    assert _results(changed)["drift:age"] != before["drift:age"]
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # touched
    touched = _scan(config, engines_for, session, 5)
    assert (touched.reference["cached"], len(hashed)) == (True, 3)
    assert _scan(config, engines_for, session, 6).reference["cached"] is True
    assert len(hashed) == 3
    assert len(session.scalars(select(ReferenceProfile)).all()) == 2  # one per content


def _results(scan: Scan) -> dict[str, float | None]:
    return {r.check: r.value for r in scan.results if r.segment == ""}


def test_unchanged_contents_renew_the_check_and_reuse_the_profile(
    db_url: str, engine: Engine, engines_for: Engines, session: Session
) -> None:
    write(engine, log_frame(T0, 96), "preds")
    config = _config(db_url)  # the default, refresh: 1d
    _scan(config, engines_for, session, 2)
    _age_checks(session, timedelta(days=2))
    before = session.scalars(select(ReferenceProfile.checked_at)).one()
    assert _scan(config, engines_for, session, 3).reference["cached"] is True
    session.expire_all()
    after = session.scalars(select(ReferenceProfile.checked_at)).one()
    assert after is not None and before is not None and after > before + timedelta(days=1)
    assert len(session.scalars(select(ReferenceProfile)).all()) == 1


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        ({"previous": "7d", "refresh": "1d"}, "refresh"),
        ({"between": ["2026-03-01", "2026-03-02"], "refresh": "0s"}, "refresh"),
        ({"between": ["2026-03-01", "2026-03-02"], "refresh": "sometimes"}, "refresh"),
    ],
    ids=["rolling-has-no-refresh", "zero", "unknown-word"],
)
def test_a_bad_refresh_is_a_config_error_naming_it(
    db_url: str, reference: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        make_config(db_url, model_dict(reference=reference))
