"""Fixtures for `monitor run` tests: real processes, a source DB behind a cuttable proxy, a
fake Slack, and helpers that wait with bounded timeouts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select

from monitor.store import make_sessionmaker, migrate
from tests.conftest import _fresh_postgres_database
from tests.fakes.slack import FakeSlack
from tests.monitor.run.proxy import TcpProxy
from tests.waiting import PATIENCE

ROOT = Path(__file__).resolve().parents[3]
PG = ("127.0.0.1", 5432)


def wait_until(
    what: str,
    check: Callable[[], Any],
    timeout: float = PATIENCE,
    every: float = 0.1,
    *,
    watch: Sequence[Replica] = (),
) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``.

    A process in ``watch`` that exits meanwhile fails the wait at once; either failure shows
    the logs of the watched processes.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for replica in watch:
            if replica.proc.poll() is not None:
                raise AssertionError(f"monitor run exited while waiting for {what}:\n{replica}")
        value = check()
        if value:
            return value
        time.sleep(every)
    logs = "".join(f"\n{replica}" for replica in watch)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{logs}")


def read_state(state_db: str, query: Select[Any]) -> list[Any]:
    """The rows of ``query``, read from the state DB the processes under test write to."""
    engine = create_engine(state_db)
    try:
        with Session(engine) as session:
            return list(session.scalars(query))
    finally:
        engine.dispose()


class Replica:
    """One `python -m monitor run` process on a port of its own choosing, with a log file.

    It listens on ``--port 0``: the OS picks a free port when the process binds it, so no
    other test can take it in between, and the ``started`` log line says which it is.
    """

    def __init__(self, config: Path, log: Path, *args: str) -> None:
        self.port: int | None = None
        self.log_path = log
        self._log = log.open("w")
        command = [sys.executable, "-m", "monitor", "run", "-c", str(config)]
        self.proc = subprocess.Popen(
            [*command, "--port", "0", *args],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    def __str__(self) -> str:
        tail = "\n".join(self.log_path.read_text().splitlines()[-40:])
        return f"--- monitor run (pid {self.proc.pid}, exit {self.proc.poll()}) log tail:\n{tail}"

    @property
    def url(self) -> str:
        assert self.port is not None, "wait_healthy() first: the port is in the started line"
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=PATIENCE / 3)

    def wait_healthy(self, timeout: float = PATIENCE) -> None:
        """Wait for the ``started`` line (the readiness signal), then for /healthz 200."""

        def started() -> dict[str, Any] | None:
            return next((line for line in self.lines() if line["message"] == "started"), None)

        self.port = int(wait_until("the started line", started, timeout, watch=[self])["port"])

        def healthy() -> bool:
            try:
                return self.get("/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until("/healthz", healthy, timeout, every=0.2, watch=[self])

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far; a line still being written is left out."""
        out = []
        for raw in self.log_path.read_text().split("\n")[:-1]:
            if raw.startswith("{"):
                out.append(json.loads(raw))
        return out

    def scans(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["message"] == "scan"]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = PATIENCE) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(PATIENCE)
        self._log.close()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Callable[..., Replica]]:
    started: list[Replica] = []

    def start(config: Path, *args: str) -> Replica:
        replica = Replica(config, tmp_path / f"replica{len(started)}.log", *args)
        started.append(replica)
        return replica

    try:
        yield start
    finally:
        for replica in started:
            replica.kill()


@pytest.fixture
def sessions(db_url: str, engine: Engine) -> sessionmaker[Session]:
    """Sessions on the per-test state DB, migrated to the newest revision."""
    migrate.upgrade(db_url)
    return make_sessionmaker(engine)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack().running() as fake:
        yield fake


@pytest.fixture
def source_db(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A PostgreSQL database with drifted predictions around now and a reference table."""
    admin = request.getfixturevalue("postgres_admin")
    for url in _fresh_postgres_database(admin):
        engine = create_engine(url)
        now = datetime.now(UTC).replace(tzinfo=None)
        write_logs(engine, now - timedelta(hours=2), now + timedelta(minutes=15))
        yield engine
        engine.dispose()


def write_logs(engine: Engine, start: datetime, end: datetime) -> None:
    rng = np.random.default_rng(7)
    seconds = int((end - start).total_seconds())
    times = pd.Timestamp(start) + pd.to_timedelta(np.arange(0, seconds, 5), unit="s")
    n = len(times)
    live = pd.DataFrame(
        {"ts": times, "x": rng.normal(3.0, 1.0, n).round(3), "pred": rng.integers(0, 2, n)}
    )
    live.to_sql("preds", engine, index=False, if_exists="replace")
    reference = pd.DataFrame(
        {"x": rng.normal(0.0, 1.0, 300).round(3), "pred": rng.integers(0, 2, 300)}
    )
    reference.to_sql("ref", engine, index=False, if_exists="replace")


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy(PG).running() as running:
        yield running


def write_config(
    path: Path,
    *,
    state_db: str,
    source: Engine,
    proxy: TcpProxy,
    slack: FakeSlack | None,
    every: str = "2s",
    run: dict[str, Any] | None = None,
    models: Sequence[str] = ("m",),
    extra: dict[str, Any] | None = None,
) -> Path:
    """A config with drifting models (one, `m`, by default) scanned every ``every``;
    ``extra`` adds top-level sections (``notify:``, ``smtp:``)."""
    source_url = source.url.set(port=proxy.port, drivername="postgresql+psycopg")
    tree: dict[str, Any] = {
        "state_db": state_db,
        "sources": {"logs": {"url": source_url.render_as_string(hide_password=False)}},
        # A busy machine may fall many windows behind and take long to finish a scan: a large
        # catch_up keeps the stored windows contiguous, a long shutdown_timeout lets SIGTERM
        # exit 0 (the tests of those bounds set their own values).
        "run": {"tick_every": "1s", "lease": "3s", "catch_up": 100, "shutdown_timeout": "120s"}
        | (run or {}),
        "models": [
            {
                "name": name,
                "source": "logs",
                "table": "preds",
                "timestamp": "ts",
                "features": {"numerical": ["x"]},
                "prediction": "pred",
                "reference": {"table": "ref"},
                "window": "1h",
                "schedule": {"every": every},
            }
            for name in models
        ],
    }
    if slack is not None:
        token = "xoxb-secret-token-1"
        tree["slack"] = {"token": token, "channel": "#ml", "api_url": slack.base_url}
    tree |= extra or {}
    path.write_text(yaml.safe_dump(tree))
    migrate.upgrade(state_db)
    return path
