"""A Parquet reference file summarised a few columns at a time (``FileColumns`` and
``summarise_columns``): the same summary as the whole table's, byte for byte, and the same
scan results as a reference table holding the same rows, with scipy as the oracle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor import dialect
from monitor.config import Config
from monitor.scans import summary as summary_module
from monitor.scans.cache import _remember
from monitor.scans.summary import summarise, summarise_columns, to_bytes
from monitor.sources import ModelLog, ReferenceReader
from monitor.store import ReferencePayload, ReferenceProfile, Scan
from monitor.windows import Window
from tests.monitor.scancore.conftest import T0, day, log_frame, make_config, model_dict, write
from tests.monitor.scancore.test_scan import Engines, _scan


def _training_rows(seed: int = 1, hours: int = 30) -> pd.DataFrame:
    """Reference rows with what a real training file has: nulls in numbers, text and labels,
    a segment column, more than one row group's worth of rows."""
    frame = log_frame(T0, hours, seed=seed).drop(columns=["id", "ts"])
    rng = np.random.default_rng(seed + 50)
    n = len(frame)
    frame["age"] = frame["age"].where(rng.random(n) >= 0.05)
    frame["plan"] = frame["plan"].where(rng.random(n) >= 0.03, None)
    frame["label"] = frame["label"].astype("float64").where(rng.random(n) >= 0.1)
    frame["region"] = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    return frame


def _save(frame: pd.DataFrame, path: Path) -> None:
    # small row groups: a text column's dictionary differs between them, as in a large file
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=97)


def _reader(db_url: str, engines_for: Engines, path: Path, **model: Any) -> ReferenceReader:
    config = make_config(db_url, model_dict(reference={"file": str(path)}, **model))
    return ReferenceReader(ModelLog(config.model("churn"), engines_for(config)))


@pytest.mark.parametrize("at_once", [1, 3, 4])
@pytest.mark.parametrize("segment", [None, "region"], ids=["whole", "segments"])
def test_a_file_summarised_column_by_column_equals_the_whole_tables_summary(
    db_url: str,
    engines_for: Engines,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    at_once: int,
    segment: str | None,
) -> None:
    path = tmp_path / "train.parquet"
    _save(_training_rows(), path)
    monkeypatch.setattr(summary_module, "COLUMNS_AT_ONCE", at_once)
    reader = _reader(db_url, engines_for, path, segment=segment)
    model = reader.model
    live = Window(day(1), day(2))
    whole = summarise(model, reader.load(live))
    columns = reader.file_columns()
    assert columns is not None
    by_columns = summarise_columns(model, columns)
    assert to_bytes(by_columns) == to_bytes(whole)
    assert list(by_columns.slices) == list(whole.slices)
    assert len(whole.slices) == (5 if segment else 1)  # the whole file and four regions
    for name, part in whole.slices.items():
        assert by_columns.slices[name].rows == part.rows
        assert by_columns.slices[name].metrics == part.metrics
    assert whole.whole.metrics  # labelled: accuracy and the rest were compared


def test_a_csv_reference_is_not_read_column_by_column(
    db_url: str, engines_for: Engines, tmp_path: Path
) -> None:
    path = tmp_path / "train.csv"
    _training_rows().to_csv(path, index=False)
    assert _reader(db_url, engines_for, path).file_columns() is None


def test_a_file_lacking_a_feature_is_an_error_naming_the_file_and_column(
    db_url: str, engines_for: Engines, tmp_path: Path
) -> None:
    from monitor.sources import SourceError

    path = tmp_path / "train.parquet"
    _save(_training_rows().drop(columns=["income"]), path)
    with pytest.raises(SourceError, match=r"'churn'.*train\.parquet.*\['income'\]"):
        _reader(db_url, engines_for, path).file_columns()


Outcome = tuple[str | None, bool | None, dict[str, Any], float | None]


def _outcomes(scan: Scan) -> tuple[bool, dict[tuple[str, str], Outcome]]:
    """Whether the scan found its reference cached, and each result (segment, check):
    taken at once, as a rescan of the same window replaces them."""
    results = {(r.segment, r.check): (r.method, r.passed, r.details, r.value) for r in scan.results}
    assert scan.status != "error", scan.error
    return scan.reference["cached"], results


def _file_and_table(
    db_url: str, engine: Engine, tmp_path: Path
) -> tuple[pd.DataFrame, pd.DataFrame, Config, Config]:
    reference = _training_rows(seed=3, hours=30)
    live = log_frame(day(1), 24, per_hour=25, seed=4, shift=4.0)
    write(engine, live, "preds")
    write(engine, reference, "train")
    path = tmp_path / "train.parquet"
    _save(reference, path)
    checks = {"drift": {"per_column": {"age": {"method": "ks"}}}}
    file_model = model_dict(reference={"file": str(path)}, segment="region", checks=checks)
    table_model = file_model | {"reference": {"table": "train"}}
    return reference, live, make_config(db_url, file_model), make_config(db_url, table_model)


def test_drift_on_a_file_reference_equals_scipy_and_the_table_form(
    db_url: str, engine: Engine, engines_for: Engines, session: Session, tmp_path: Path
) -> None:
    """Cold (summarised from the file, then standing on its stored form) and warm (read from
    the cache): KS as scipy computes it, and every result as a reference table's."""
    reference, live, file_config, table_config = _file_and_table(db_url, engine, tmp_path)
    cold = _outcomes(_scan(file_config, engines_for, session, 2))
    warm = _outcomes(_scan(file_config, engines_for, session, 2))
    assert (cold[0], warm[0]) == (False, True)
    ks = stats.ks_2samp(reference["age"].dropna(), live["age"])
    south = reference[reference["region"] == "south"]["age"].dropna()
    in_south = stats.ks_2samp(south, live[live["region"] == "south"]["age"])
    for _, results in (cold, warm):
        method, passed, _, value = results[("", "drift:age")]
        assert (method, passed) == ("ks", False)  # the live ages are 4 years older
        assert value == pytest.approx(ks.pvalue, rel=1e-9)
        assert results[("south", "drift:age")][3] == pytest.approx(in_south.pvalue, rel=1e-9)
    _, table = _outcomes(_scan(table_config, engines_for, session, 2))
    for _, results in (cold, warm):
        assert results.keys() == table.keys()
        for key, (method, passed, details, value) in results.items():
            assert (method, passed, details) == table[key][:3], key
            assert value == pytest.approx(table[key][3], rel=1e-12, nan_ok=True), key


def test_a_large_insert_leaves_a_row_already_stored_as_it_was(session: Session) -> None:
    """The payload is stored whole (on SQLite written into the row a chunk at a time), and
    a second insert of the same key, a concurrent scan's, leaves the stored row as it was."""
    payload = np.random.default_rng(0).bytes((2 << 20) + 12345)  # chunks of 1 MiB and a rest
    _remember(session, _profile_row("f" * 64, payload))
    _remember(session, _profile_row("f" * 64, b"other"))
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReferenceProfile)) == 1
    (stored,) = session.execute(select(ReferencePayload.profile_id, ReferencePayload.profiles))
    assert stored == (session.scalar(select(ReferenceProfile.id)), payload)


def test_a_large_insert_that_fails_midway_leaves_no_row_to_commit(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing the value fails after the row went in (on SQLite, a ``zeroblob`` filled a
    chunk at a time), the row is taken out again: a scan that stores its error and commits
    must not commit a cache entry of zeros that every later scan would then read."""
    payload = np.random.default_rng(1).bytes((1 << 20) + 7)
    row = _profile_row("e" * 64, payload)
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("other databases insert the value in the row's one statement")
    # a view longer than the blob: its last chunk's write fails past the blob's end
    monkeypatch.setattr(
        dialect, "memoryview", lambda v: memoryview(bytes(len(v) + 1)), raising=False
    )
    with pytest.raises(ValueError):
        _remember(session, row)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReferenceProfile)) == 0
    assert session.scalar(select(func.count()).select_from(ReferencePayload)) == 0


def _profile_row(fingerprint: str, payload: bytes) -> dict[str, Any]:
    """A reference-profile row holding ``payload``, as the scan stores it (``_remember``)."""
    return {
        "model": "churn",
        "fingerprint": fingerprint,
        "identity": None,
        "checked_at": None,
        "descriptor": {"rows": {"": 1}},
        "rows": 1,
        "profiles": payload,
        "metrics": {},
        "created_at": T0,
    }
