"""A Spark Thrift server, started once per test session (bench/spark_thrift.py).

It installs nothing: pyspark and PyHive come with the ``spark`` extra that the README's test
command installs. Only a missing Java skips the Spark tests, loudly; .ci/run then fails
because no ``[spark`` test ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import spark_thrift


@pytest.fixture(scope="session")
def spark_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[spark_thrift.ThriftServer]:
    missing = spark_thrift.java_missing()
    if missing is not None:
        pytest.skip(f"SPARK TESTS SKIPPED: {missing}")
    try:
        import pyhive  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"the spark extra is not installed ({exc}): pip install -e '.[dev,spark]'")
    workdir: Path = tmp_path_factory.mktemp("spark")
    server = spark_thrift.start(workdir, master="local[2]", timeout=600)
    yield server
    server.stop()
