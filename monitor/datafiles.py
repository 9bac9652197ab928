"""Read the columns a comparison needs from a CSV or Parquet file, and nothing more.

The format follows the extension. Parquet goes through pyarrow and reads only the requested
column chunks, strings as dictionaries; CSV goes through pandas with ``usecols``. For large
Parquet files, :class:`ParquetProfiles` reads one column at a time, straight into the drift
engine's profiles. Every failure is a
:class:`~monitor.errors.MonitorError` naming the file (and the column, where one is at fault).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import MonitorError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from checks.drift import ColumnProfile, ColumnType

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".csv.zst")


class DataFileError(MonitorError):
    """A data file that is missing, unreadable or lacks a column."""


def file_format(path: Path, role: str) -> str:
    """``"parquet"`` or ``"csv"`` from the extension; anything else is an error."""
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    known = ", ".join(PARQUET_SUFFIXES + CSV_SUFFIXES)
    raise DataFileError(f"{role} file {str(path)!r}: unsupported extension; use one of {known}")


def _check_exists(path: Path, role: str) -> None:
    if not path.exists():
        raise DataFileError(f"{role} file {str(path)!r} does not exist")
    if not path.is_file():
        raise DataFileError(f"{role} file {str(path)!r} is not a file")


def _unreadable(path: Path, role: str, exc: Exception) -> DataFileError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataFileError(f"cannot read {role} file {str(path)!r}: {detail}")


def read_column_names(path: Path, role: str) -> list[str]:
    """The file's column names, from the Parquet footer or the CSV header (no data read)."""
    _check_exists(path, role)
    fmt = file_format(path, role)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        import pandas as pd

        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid and pandas' errors are both
        raise _unreadable(path, role, exc) from exc


def check_columns(path: Path, role: str, available: Sequence[str], wanted: Sequence[str]) -> None:
    missing = [c for c in wanted if c not in set(available)]
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        raise DataFileError(
            f"column {shown} not in {role} file {str(path)!r} (it has: {', '.join(available)})"
        )


def read_columns(path: Path, role: str, columns: Sequence[str]) -> pd.DataFrame:
    """Only ``columns`` of the file, in that order."""
    fmt = file_format(path, role)
    try:
        if fmt == "parquet":
            return _read_parquet(path, columns)
        import pandas as pd

        return pd.read_csv(path, usecols=list(columns))[list(columns)]
    except (OSError, ValueError) as exc:
        raise _unreadable(path, role, exc) from exc


def _string_columns(path: Path, columns: Sequence[str]) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    kinds = (pa.types.is_string, pa.types.is_large_string)
    return [name for name in columns if any(k(schema.field(name).type) for k in kinds)]


def _read_parquet(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    # strings stay dictionary-encoded and arrive as pandas Categorical: no Python str object
    # per row, which is most of the read time and memory of a categorical column
    strings = _string_columns(path, columns)
    table = pq.read_table(path, columns=list(columns), read_dictionary=strings)
    # split_blocks + self_destruct: one numpy block per column, freeing Arrow buffers as they
    # convert, so Arrow and pandas copies of the data never sit side by side
    return table.to_pandas(split_blocks=True, self_destruct=True)


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(PARQUET_SUFFIXES)


def read_parquet_column(path: Path, role: str, name: str) -> pd.Series:
    """One column of a Parquet file, typed as :func:`read_columns` would type it."""
    try:
        return _read_parquet(path, [name])[name]
    except (OSError, ValueError) as exc:
        raise _unreadable(path, role, exc) from exc


def _read_parquet_numbers(path: Path, role: str, name: str) -> np.ndarray:
    """A column straight from Arrow to numpy (no pandas step; zero-copy for floats without
    nulls), with nulls as NaN, as pandas would give them."""
    import pyarrow.parquet as pq

    try:
        column: np.ndarray = pq.read_table(path, columns=[name]).column(0).to_numpy()
        return column
    except (OSError, ValueError) as exc:
        raise _unreadable(path, role, exc) from exc


def infer_parquet_types(path: Path, role: str, columns: Sequence[str]) -> dict[str, ColumnType]:
    """Evidently's column typing, one column in memory at a time."""
    # pandas and scipy (through checks.drift) load only when a Parquet file is typed.
    import pandas as pd

    from checks.drift import infer_column_types

    types: dict[str, ColumnType] = {}
    for name in columns:
        frame = pd.DataFrame({name: read_parquet_column(path, role, name)})
        types.update(infer_column_types(frame))
    return types


class ParquetProfiles(Mapping[str, "ColumnProfile"]):
    """The columns of a Parquet file as drift profiles, each read and summarised on access.

    The drift engine takes a mapping of profiles in place of a DataFrame and looks each column
    up once, in its worker threads; so only the columns being compared at that moment are in
    memory, never the whole file.
    """

    def __init__(self, path: Path, role: str, types: Mapping[str, ColumnType]) -> None:
        self.path = path
        self.role = role
        self.types = dict(types)

    def __getitem__(self, name: str) -> ColumnProfile:
        # pandas (through checks.drift) loads only when a file is actually profiled.
        from checks.drift import profile_column

        if name not in self.types:
            raise KeyError(name)
        if self.types[name] == "numerical":
            values: Any = _read_parquet_numbers(self.path, self.role, name)
        else:
            values = read_parquet_column(self.path, self.role, name)
        return profile_column(values, self.types[name], column=name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.types)

    def __len__(self) -> int:
        return len(self.types)
