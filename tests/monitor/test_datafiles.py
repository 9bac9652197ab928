from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from checks.drift import profile_column
from monitor.datafiles import (
    DataFileError,
    ParquetProfiles,
    infer_parquet_types,
    read_column_names,
    read_columns,
)


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    amount = rng.normal(100, 15, 500)
    amount[::7] = np.nan
    frame = pd.DataFrame(
        {
            "amount": amount,
            "visits": rng.integers(0, 50, 500),
            "plan": rng.choice(["basic", "pro", None], 500),
            "ok": rng.random(500) < 0.5,
        }
    )
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    return path


def test_parquet_profiles_equal_profiles_of_the_pandas_read(parquet: Path) -> None:
    frame = pd.read_parquet(parquet)
    types = {"amount": "numerical", "visits": "numerical", "plan": "categorical"}
    lazy = ParquetProfiles(parquet, "reference", types)
    for name, kind in types.items():
        ours, expected = lazy[name], profile_column(frame[name], kind)
        assert (ours.null_count, ours.total_count, ours.integer) == (
            expected.null_count,
            expected.total_count,
            expected.integer,
        )
        for mine, theirs in zip(ours.value_counts, expected.value_counts, strict=True):
            np.testing.assert_array_equal(mine, theirs)


def test_parquet_profiles_only_know_the_columns_they_were_given(parquet: Path) -> None:
    lazy = ParquetProfiles(parquet, "current", {"amount": "numerical"})
    assert list(lazy) == ["amount"]
    with pytest.raises(KeyError):
        lazy["plan"]


def test_parquet_types_are_inferred_like_a_full_read(parquet: Path) -> None:
    from checks.drift import infer_column_types

    expected = infer_column_types(pd.read_parquet(parquet))
    assert infer_parquet_types(parquet, "current", list(expected)) == expected


def test_csv_and_parquet_read_only_the_asked_columns_in_that_order(
    parquet: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "data.csv"
    pd.read_parquet(parquet).to_csv(csv, index=False)
    for path in (parquet, csv):
        assert read_column_names(path, "reference") == ["amount", "visits", "plan", "ok"]
        assert list(read_columns(path, "reference", ["plan", "amount"]).columns) == [
            "plan",
            "amount",
        ]


def test_a_file_that_is_not_parquet_is_an_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.parquet"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match=r"cannot read current file '.*broken\.parquet'"):
        read_column_names(bad, "current")


def test_a_directory_is_not_a_data_file(tmp_path: Path) -> None:
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(DataFileError, match="is not a file"):
        read_column_names(folder, "reference")
