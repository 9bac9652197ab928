"""Load the HTTP API on loopback: concurrent status reads and acknowledgements while scans run.

    python bench/api_load.py --state-db sqlite:////tmp/load.db --workers 4 --steps 150
    python bench/api_load.py --state-db postgresql+psycopg://postgres@127.0.0.1/load ...

The API runs under uvicorn on 127.0.0.1; a background thread re-scans every model while the
workers read ``/api/models``, ``/api/models/{name}`` and ``/api/alerts`` and acknowledge the
alerts assigned to them (each alert to exactly one worker). Afterwards every acknowledgement
must be in the DB exactly once, by the worker that sent it. Prints throughput and latencies.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import Config, parse_config

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TOKEN = "load-test-token"
# Above SQLite's 30 s busy timeout: a request queued behind a scan on a busy machine is slow,
# not an error (the latency figures show it).
REQUEST_TIMEOUT_S = 120


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    by_route: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    acks: dict[int, str] = field(default_factory=dict)  # alert id -> the worker that acked
    retries: int = 0  # acks retried after "changed concurrently" (a scan touched the alert)
    scans: int = 0
    assigned: list[int] = field(default_factory=list)  # the open alerts when the load began

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p99_ms": round(self.percentile(99), 1),
            "errors": len(self.errors),
            "acks": len(self.acks),
            "ack_retries": self.retries,
            "scans_during_load": self.scans,
            "p50_p99_ms_by_route": {
                route: [round(float(np.percentile(v, q)), 1) for q in (50, 99)]
                for route, v in sorted(self.by_route.items())
            },
        }


def prediction_logs(days: int = 6, per_hour: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * 24 * per_hour
    score = rng.uniform(0, 1, n)
    return pd.DataFrame(
        {
            "ts": pd.Timestamp(T0.replace(tzinfo=None)) + pd.to_timedelta(np.arange(n) * 180, "s"),
            "age": rng.normal(40, 10, n).round(1),
            "income": rng.normal(50_000, 8_000, n).round(),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "pred": (score >= 0.5).astype(int),
            "label": np.where(rng.random(n) < 0.85, score >= 0.5, score < 0.5).astype(int),
        }
    )


def load_config(state_db: str, source: str, models: int) -> Config:
    """``models`` models on one log; each fails two checks, so each raises two alerts."""
    thresholds = [
        {"metric": "accuracy", "min": 0.99, "severity": "critical"},
        {"metric": "row_count", "min": 10**9, "severity": "warning"},
    ]
    model = {
        "source": "logs",
        "table": "preds",
        "timestamp": "ts",
        "features": {"numerical": ["age", "income"], "categorical": ["plan"]},
        "prediction": "pred",
        "target": "label",
        "reference": {"between": ["2026-03-01", "2026-03-02"]},
        "window": "1d",
        "schedule": {"every": "1d"},
        "checks": {"thresholds": thresholds},
    }
    tree = {
        "state_db": state_db,
        "sources": {"logs": {"url": source}},
        "api": {"token": TOKEN},
        "models": [{"name": f"model{i:02d}", **model} for i in range(models)],
    }
    return parse_config(tree, file="api_load")


def prepare(config: Config) -> None:
    """Write the log, migrate the state DB and scan day 2 so every model has open alerts."""
    from monitor.store import make_engine, migrate

    engine = make_engine(config.sources["logs"].url.get_secret_value())
    try:
        prediction_logs().to_sql("preds", engine, index=False, if_exists="replace")
    finally:
        engine.dispose()
    migrate.upgrade(config.state_db)
    scan_every_model(config, T0 + timedelta(days=2))


def scan_every_model(config: Config, window_end: datetime) -> int:
    from monitor.scans.service import scan_all
    from monitor.sources import SourceEngines
    from monitor.store import make_engine, make_sessionmaker

    engine = make_engine(config.state_db)
    try:
        with make_sessionmaker(engine)() as session, SourceEngines(config.sources) as engines:
            plan = [(model, window_end) for model in config.models]
            reports = list(scan_all(plan, config=config, engines=engines, session=session))
    finally:
        engine.dispose()
    failed = [f"{r.model}: {r.error}" for r in reports if r.status == "error"]
    if failed:
        raise RuntimeError(f"scans ended in error: {failed}")
    return len(reports)


@contextmanager
def serve(config: Config) -> Iterator[str]:
    """The API under uvicorn on 127.0.0.1 (a free port); yields its base URL."""
    import uvicorn

    from monitor.api.app import create_app, settings_from_config
    from monitor.store import make_engine, make_sessionmaker

    engine = make_engine(config.state_db)
    app = create_app(
        sessions=make_sessionmaker(engine), settings=settings_from_config(config), config=config
    )
    # Bound here and handed to uvicorn: no other process can take the port in between.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        # Generous: a busy machine (the test suite runs this too) can take long to start.
        deadline = time.monotonic() + 180
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()
        engine.dispose()


def run_load(
    config: Config, base_url: str, *, workers: int, steps: int, scans: bool = True
) -> LoadResult:
    """``workers`` threads of ``steps`` reads each, acknowledging their share of the alerts."""
    result = LoadResult()
    lock = threading.Lock()
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        alerts = [a["id"] for a in client.get("/api/alerts").json()["alerts"]]
    result.assigned = alerts
    shares = [alerts[i::workers] for i in range(workers)]
    names = [m.name for m in config.models]
    stop = threading.Event()
    scanner = threading.Thread(target=_scan_loop, args=(config, stop, result, lock))

    def work(index: int) -> None:
        with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
            _worker(client, f"worker{index}", shares[index], names, steps, result, lock)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    started = time.perf_counter()
    if scans:
        scanner.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    stop.set()
    if scans:
        scanner.join()
    return result


def _scan_loop(
    config: Config, stop: threading.Event, result: LoadResult, lock: threading.Lock
) -> None:
    day = 3
    while not stop.is_set():
        try:
            count = scan_every_model(config, T0 + timedelta(days=day))
        except Exception as exc:  # reported as a failure of the run, not swallowed
            with lock:
                result.errors.append(f"scan of day {day}: {type(exc).__name__}: {exc}")
            return
        with lock:
            result.scans += count
        day = 3 + (day - 2) % 3  # days 3..5, re-scanned: replaces results, keeps alerts open


def _worker(
    client: httpx.Client,
    name: str,
    mine: list[int],
    models: list[str],
    steps: int,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    pending = list(mine)
    every = max(1, steps // (len(mine) + 1))
    for step in range(steps):
        paths = ["/api/models", f"/api/models/{models[step % len(models)]}", "/api/alerts"]
        _call(client, "GET", paths[step % 3], result, lock)
        if pending and step % every == 0:
            _ack(client, name, pending.pop(0), result, lock)
    for alert_id in pending:
        _ack(client, name, alert_id, result, lock)


def _ack(
    client: httpx.Client, name: str, alert_id: int, result: LoadResult, lock: threading.Lock
) -> None:
    body = {"by": name, "note": "load test"}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(10):
        response = _call(client, "POST", f"/api/alerts/{alert_id}/ack", result, lock, body, headers)
        if response is None:
            return
        if response.status_code == 200:
            with lock:
                result.acks[alert_id] = name
            return
        with lock:
            result.retries += 1
    with lock:
        result.errors.append(f"ack of alert {alert_id} by {name}: still conflicting after 10 tries")


def _call(
    client: httpx.Client,
    method: str,
    path: str,
    result: LoadResult,
    lock: threading.Lock,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response | None:
    started = time.perf_counter()
    response = client.request(method, path, json=body, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    retry = response.status_code == 409 and "try again" in response.text
    with lock:
        result.requests += 1
        result.latencies_ms.append(elapsed)
        result.by_route.setdefault(_route(method, path), []).append(elapsed)
        if response.status_code != 200 and not retry:
            result.errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
            return None
    return response


def _route(method: str, path: str) -> str:
    if path.endswith("/ack"):
        return "POST /api/alerts/{id}/ack"
    if path.startswith("/api/models/"):
        return "GET /api/models/{name}"
    return f"{method} {path}"


def lost_acknowledgements(config: Config, result: LoadResult) -> list[str]:
    """Problems with the stored acks: each alert acknowledged once, by the worker that did.

    Scans during the load may open new alerts (drift on later days); only the alerts handed
    out at the start are expected to be acknowledged."""
    acks = result.acks
    import sqlalchemy as sa

    from monitor.store import make_engine

    engine = make_engine(config.state_db)
    problems = []
    try:
        with engine.connect() as conn:
            alerts: dict[int, str | None] = dict(
                conn.execute(sa.text("SELECT id, acked_by FROM alert")).all()
            )
            events = conn.execute(
                sa.text("SELECT alert_id, actor FROM alert_event WHERE kind = 'acknowledged'")
            ).all()
    finally:
        engine.dispose()
    if not result.assigned:
        problems.append("no alerts were raised: nothing was acknowledged")
    for alert_id in set(result.assigned) - acks.keys():
        problems.append(f"alert {alert_id} was never acknowledged")
    for alert_id, worker in acks.items():
        mine = [actor for a, actor in events if a == alert_id]
        if mine != [worker] or alerts.get(alert_id) != worker:
            problems.append(
                f"alert {alert_id}: acked by {worker}, stored {alerts.get(alert_id)}, events {mine}"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-db", default="sqlite:////tmp/monitor-api-load.db")
    parser.add_argument("--source", default="sqlite:////tmp/monitor-api-load-logs.db")
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--no-scans", action="store_true", help="Reads and acks only.")
    args = parser.parse_args(argv)
    for url in (args.state_db, args.source):
        if url.startswith("sqlite:////"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            Path(url.removeprefix("sqlite:///")).touch()
    config = load_config(args.state_db, args.source, args.models)
    prepare(config)
    with serve(config) as base_url:
        result = run_load(
            config, base_url, workers=args.workers, steps=args.steps, scans=not args.no_scans
        )
    problems = result.errors + lost_acknowledgements(config, result)
    print(json.dumps({**result.summary(), "problems": problems[:10]}, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
