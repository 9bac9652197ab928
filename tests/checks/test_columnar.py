"""The checks read pandas, pyarrow and numpy columns alike (checks.columnar), so the
pandas-free path a library user takes (pyarrow Tables, numpy arrays) judges exactly as the
DataFrame path the NannyML oracle tests cover (tests/oracle)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from checks.columnar import arrow_numbers, factorize, floats, is_categorical
from checks.estimated import fit_binary
from checks.multivariate import fit_reconstruction


def _frame(rng: np.random.Generator, n: int, rho: float) -> pd.DataFrame:
    a = rng.normal(size=n)
    b = rho * a + np.sqrt(1 - rho**2) * rng.normal(size=n)
    colour = np.where(b + rng.normal(scale=0.5, size=n) > 0, "red", "blue").astype(object)
    frame = pd.DataFrame({"a": a, "b": b, "c": rng.exponential(size=n), "colour": colour})
    frame.loc[rng.uniform(size=n) < 0.03, "a"] = np.nan
    frame.loc[rng.uniform(size=n) < 0.03, "colour"] = None
    return frame


def _arrow(frame: pd.DataFrame, chunks: int) -> pa.Table:
    """The frame as a pyarrow Table of several chunks, text columns dictionary-encoded (each
    chunk its own dictionary, as a multi-file read gives)."""
    parts = np.array_split(np.arange(len(frame)), chunks)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    joined = pa.concat_tables([table.slice(int(p[0]), len(p)) for p in parts])
    for i, field in enumerate(joined.schema):
        if pa.types.is_string(field.type):
            encoded = pa.chunked_array([c.dictionary_encode() for c in joined[i].chunks])
            joined = joined.set_column(i, field.name, encoded)
    return joined


def test_reconstruction_on_pyarrow_and_numpy_equals_the_dataframe_path() -> None:
    rng = np.random.default_rng(11)
    reference, live = _frame(rng, 20_000, 0.8), _frame(rng, 3_000, 0.2)
    columns = ["a", "b", "c", "colour"]
    expected = fit_reconstruction(reference, columns, chunk_size=3_000)
    on_arrow = fit_reconstruction(_arrow(reference, 3), columns, chunk_size=3_000)
    as_numpy = {c: live[c].to_numpy() for c in columns}
    assert on_arrow.to_json_dict() == expected.to_json_dict()
    want = expected.evaluate(live)
    assert on_arrow.evaluate(_arrow(live, 2)) == want
    assert expected.evaluate(as_numpy) == want
    assert want.drifted is True  # the correlation changed


def test_estimates_on_arrow_columns_equal_the_series_path() -> None:
    rng = np.random.default_rng(12)
    p = rng.uniform(size=30_000)
    frame = pd.DataFrame({"y": (rng.uniform(size=30_000) < p).astype(int), "score": p**2})
    frame.loc[rng.uniform(size=30_000) < 0.01, "score"] = np.nan
    table = _arrow(frame, 4)
    ours = fit_binary(arrow_numbers(table["y"]), arrow_numbers(table["score"]))
    theirs = fit_binary(frame["y"], frame["score"])
    assert ours.to_json_dict() == theirs.to_json_dict()
    assert ours.estimate(arrow_numbers(table["score"])) == theirs.estimate(frame["score"])


def test_column_kinds_and_missing_values_from_each_library() -> None:
    numbers = [1.5, None, 3.0]
    for column in (pd.Series(numbers), pa.array(numbers), pa.chunked_array([[1.5], [None, 3]])):
        assert not is_categorical(column)
        np.testing.assert_array_equal(floats(column), [1.5, np.nan, 3.0])
    assert not is_categorical(pd.Series([1, None], dtype="Int64"))
    for column in (
        pd.Series(["x", None, "y", "x"]),
        pd.Series(["x", None, "y", "x"], dtype="category"),
        pa.array(["x", None, "y", "x"]),
        pa.array(["x", None, "y", "x"]).dictionary_encode(),
        np.array(["x", None, "y", "x"], dtype=object),
    ):
        assert is_categorical(column)
        codes, uniques = factorize(column)
        assert [uniques[c] if c >= 0 else None for c in codes] == ["x", None, "y", "x"]
    assert is_categorical(pd.Series([True, False])) and is_categorical(pa.array([True]))
    _, flags = factorize(pd.Series([True, False]))
    assert [type(f) for f in flags] == [bool, bool]  # Python values: JSON keys of a cached fit


def test_an_arrow_column_that_is_not_a_number_says_so() -> None:
    with pytest.raises(TypeError, match="timestamp"):
        arrow_numbers(pa.array([pd.Timestamp("2026-01-01")]))


def test_the_checks_import_neither_pandas_nor_scipy_nor_pyarrow() -> None:
    code = (
        "import sys, checks.estimated, checks.multivariate;"
        "print(sorted(m for m in ('pandas', 'scipy', 'sklearn', 'pyarrow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("index_type", ["int8", "int16", "int32", "int64"])
def test_a_sliced_dictionary_column_factorizes_to_its_own_values(index_type: str) -> None:
    values = ["b", "a", "c", "a", "d", "b", "c", "a"]
    encoded = pa.array(values).dictionary_encode()
    encoded = encoded.cast(pa.dictionary(getattr(pa, index_type)(), pa.string()))
    for column in (encoded.slice(3, 4), pa.chunked_array([encoded.slice(1, 3), encoded.slice(5)])):
        codes, uniques = factorize(column)
        assert [uniques[c] for c in codes] == column.to_pylist()
