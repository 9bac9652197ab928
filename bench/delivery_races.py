"""Races of the alerting layer, this checkout beside a baseline git ref, in one run.

    python bench/delivery_races.py                       # both backends, baseline main
    python bench/delivery_races.py --backend sqlite --alerts 30 --delay 5 --deliverers 2

Two measurements, each in a fresh state DB, for the baseline (``git archive`` of
``--baseline``) and for this checkout, each in its own process:

* **burst**: ``--alerts`` alerts raised at once, a fake Slack answering every call after
  ``--delay`` seconds, ``--deliverers`` threads each running ``tick`` in a loop (as the tick,
  the API's post-action delivery and Slack clicks do on several replicas) until the outbox is
  empty, with the real claim lease. Counts alerts vs Slack parent messages.
* **races**: ``--rounds`` rounds of a breaching scan racing an acknowledgement of the same
  recovered alert (two threads released by a barrier). A round is *lost* when afterwards the
  alert is neither firing again nor replaced by a new open alert (an acknowledgement that first
  read the alert after the re-fire had committed is a sequential ack, counted apart).

Writes the table to ``bench/results/delivery_races.md``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    args = _parser().parse_args()
    if args.worker:
        sys.path.insert(0, args.code)
        sys.path.insert(1, str(ROOT))  # tests.fakes.slack comes from this checkout
        result = burst(args) if args.worker == "burst" else races(args)
        print(json.dumps(result))
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with _baseline(args.baseline) as baseline:
        codes = {args.baseline: baseline, "this branch": str(ROOT)}
        rows = [
            _run(args, worker, code, backend, label)
            for backend in backends
            for worker in ("burst", "races")
            for label, code in codes.items()
        ]
    _report(args, rows)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--alerts", type=int, default=35)
    parser.add_argument("--delay", type=float, default=5.0, help="seconds per Slack call")
    parser.add_argument("--deliverers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--baseline", default="main", help="git ref to compare with")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "delivery_races.md"))
    parser.add_argument("--worker", choices=["burst", "races"], help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    return parser


@contextmanager
def _baseline(ref: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="baseline-") as folder:
        archive = subprocess.run(
            ["git", "archive", ref, "monitor", "checks", "alembic", "alembic.ini"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        yield folder


def _run(args: argparse.Namespace, worker: str, code: str, backend: str, label: str) -> dict:
    with _database(backend) as url:
        command = [sys.executable, __file__, "--worker", worker, "--code", code, "--db", url]
        for name in ("alerts", "delay", "deliverers", "rounds"):
            command += [f"--{name}", str(getattr(args, name))]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{worker} on {label} ({backend}) failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result |= {"worker": worker, "code": label, "backend": backend}
    result |= {"seconds": round(time.monotonic() - started, 1), "load": os.getloadavg()[0]}
    print(json.dumps(result), flush=True)
    return result


@contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="races-") as folder:
            yield f"sqlite:///{folder}/state.db"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sessions(url: str) -> Any:
    from monitor.store import Base, make_engine, make_sessionmaker

    engine = make_engine(url)
    Base.metadata.create_all(engine)
    return make_sessionmaker(engine)


def _signal(check: str, passed: bool) -> Any:
    from monitor.alerts.conditions import CheckSignal

    value = 0.9 if passed else 0.74
    return CheckSignal(check, passed, "warning", value, 0.8, None, f"{check} {value}")


def _scan(sessions: Any, model: str, at: datetime, signals: list[Any]) -> None:
    from monitor.alerts.evaluate import evaluate_scan
    from monitor.alerts.policy import AlertPolicy, Routing

    with sessions() as session:
        evaluate_scan(
            session=session,
            model=model,
            window_end=at,
            signals=signals,
            policy=AlertPolicy(),
            routing=Routing(),
            now=at,
        )
        session.commit()


def burst(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from monitor.alerts.tick import tick
    from monitor.slack.transport import SlackNotifier, make_client
    from monitor.store import Alert, Notification
    from tests.fakes.slack import FakeSlack

    sessions = _sessions(args.db)
    _scan(sessions, "churn", _wall(), [_signal(f"c{i:02d}", False) for i in range(args.alerts)])
    # The baseline's tick has no clock; this checkout's is given the wall clock, as
    # `monitor run`, the API and Slack clicks give it.
    clocked = "clock" in inspect.signature(tick).parameters
    extra: dict[str, Callable[[], datetime]] = {"clock": _wall} if clocked else {}

    def pending() -> int:
        with sessions() as session:
            query = select(func.count(Notification.id)).where(Notification.status == "pending")
            return session.scalar(query) or 0

    with FakeSlack().running() as fake:
        fake.delay = args.delay
        sent: Counter[int] = Counter()

        def deliverer(n: int) -> None:
            client = make_client("xoxb-bench", base_url=fake.base_url, timeout=int(args.delay) + 30)
            notifier = SlackNotifier(client, interactive=True)
            while pending():
                sent[n] += tick(sessions, now=_wall(), notifier=notifier, **extra).delivery.sent
                time.sleep(0.2)

        started = time.monotonic()
        threads = [threading.Thread(target=deliverer, args=(n,)) for n in range(args.deliverers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        parents = [c.params["text"] for c in fake.calls_to("chat.postMessage")]
    with sessions() as session:
        alerts = session.scalar(select(func.count(Alert.id)))
    return {
        "alerts": alerts,
        "parents": len(parents),
        "duplicates": len(parents) - len(set(parents)),
        "per_deliverer": [sent[n] for n in range(args.deliverers)],
        "delivery_s": round(time.monotonic() - started, 1),
    }


def races(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import select

    from monitor.alerts import actions
    from monitor.alerts.errors import AlertStateError
    from monitor.store import Alert, AlertEvent

    sessions = _sessions(args.db)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    saw: list[str] = []
    real_load = actions.load

    def recording_load(session: Any, alert_id: int) -> Any:
        alert = real_load(session, alert_id)
        if threading.current_thread().name == "ack":
            saw.append(alert.state)
        return alert

    actions.load = recording_load  # what the acknowledgement read, in order
    outcomes: Counter[str] = Counter()
    for i in range(args.rounds):
        model = f"m{i}"
        _scan(sessions, model, t0, [_signal("accuracy", False)])
        _scan(sessions, model, t0 + timedelta(hours=1), [_signal("accuracy", True)])
        with sessions() as session:
            first = session.scalars(select(Alert.id).where(Alert.model == model)).one()
        barrier = threading.Barrier(2)
        saw.clear()
        at = t0 + timedelta(hours=2)

        def scan(model: str = model, at: datetime = at, barrier: Any = barrier) -> None:
            barrier.wait()
            _scan(sessions, model, at, [_signal("accuracy", False)])

        def ack(first: int = first, at: datetime = at, barrier: Any = barrier) -> None:
            barrier.wait()
            with sessions() as session:
                try:
                    actions.acknowledge(session=session, alert_id=first, by="alice", now=at)
                    session.commit()
                except AlertStateError:
                    session.rollback()

        threads = [threading.Thread(target=scan), threading.Thread(target=ack, name="ack")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with sessions() as session:
            alerts = list(session.scalars(select(Alert).where(Alert.model == model)))
            kinds = list(
                session.scalars(select(AlertEvent.kind).where(AlertEvent.alert_id == first))
            )
        outcomes[_outcome(alerts, first, kinds, list(saw))] += 1
    return {"rounds": args.rounds, "outcomes": dict(outcomes), "lost": outcomes["lost"]}


def _outcome(alerts: list[Any], first: int, kinds: list[str], saw: list[str]) -> str:
    old = next(a for a in alerts if a.id == first)
    newer_open = [a for a in alerts if a.id != first and a.state != "resolved"]
    if old.state == "firing" and not newer_open:
        return "re-fired"
    if old.state == "resolved" and [a.state for a in newer_open] == ["firing"]:
        return "new alert"
    if (
        old.state == "acknowledged"
        and saw[:1] == ["firing"]
        and kinds[-2:] == ["refired", "acknowledged"]
    ):
        return "sequential ack"
    return "lost"


def _wall() -> datetime:
    return datetime.now(UTC)


def _report(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    lines = [
        f"Burst: {args.alerts} alerts, fake Slack answering each call after {args.delay:g} s, "
        f"{args.deliverers} deliverers ticking in a loop, claim lease as shipped. "
        f"Races: {args.rounds} rounds of a breaching scan against an ack of the recovered alert.",
        "",
        "| backend | code | alerts | Slack parents | duplicate parents | delivery (s) "
        "| sends per deliverer |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in (r for r in rows if r["worker"] == "burst"):
        lines.append(
            f"| {r['backend']} | {r['code']} | {r['alerts']} | {r['parents']} | "
            f"{r['duplicates']} | {r['delivery_s']} | {r['per_deliverer']} |"
        )
    lines += ["", "| backend | code | rounds | lost re-fires | outcomes |", "|---|---|---|---|---|"]
    for r in (r for r in rows if r["worker"] == "races"):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
        lines.append(f"| {r['backend']} | {r['code']} | {r['rounds']} | {r['lost']} | {outcomes} |")
    loads = ", ".join(f"{r['load']:.1f}" for r in rows)
    lines += [
        "",
        f"Machine: {os.cpu_count()} cores, shared; 1-minute load after each run: {loads}.",
    ]
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
