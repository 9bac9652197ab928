"""The chaos scenario for every notifier: 3 replicas, one killed -9 mid-delivery, a receiver
that answers 500s and 429s. Alerts vs deliveries counted per notifier.

    python bench/notifier_chaos.py                    # all notifiers, baseline main for Slack
    python bench/notifier_chaos.py --alerts 40 --notifiers pagerduty,webhook

Per notifier, in a fresh PostgreSQL state DB: ``--alerts`` alerts raised at once and routed
to the notifier's destination; a fake receiver on loopback (fake Slack, fake PagerDuty, a
webhook endpoint, an aiosmtpd sink) that answers every call after ``--delay`` seconds, every
7th call with a 500 (SMTP 451) and every 11th with a 429 (``Retry-After: 20``; SMTP has no
such answer); three replica processes each running the delivery loop (``deliver_due``, the
tick's delivery) until the outbox is empty. Once a third of the alerts are delivered, a
replica in the middle of a call is killed with SIGKILL and started again, as an orchestrator
would. Time runs ``SPEED`` times faster than the wall clock for the service (back-off, claim
leases, Retry-After), so the 2-minute lease of the killed replica's row expires in seconds.

Counted: alerts, alerts delivered (accepted by the receiver at least once), duplicates
(accepted twice: the killed replica's call was accepted but not recorded, the documented
at-least-once case), lost alerts, requests, 500s and 429s answered. Slack runs on this branch
and on the baseline (``git archive`` of ``--baseline``); the other notifiers do not exist there.
Writes ``bench/results/notifier_chaos.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.delivery_races import _baseline, _database  # noqa: E402

NOTIFIERS = ("slack", "pagerduty", "webhook", "email")
CHANNELS = {
    "slack": "#ml-alerts",
    "pagerduty": "pagerduty:oncall",
    "webhook": "webhook:retrain",
    "email": "email:team",
}
SPEED = 20.0
EPOCH = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
REPLICAS = 3


def main() -> None:
    args = _parser().parse_args()
    if args.worker:
        sys.path.insert(0, args.code)
        (_seed if args.worker == "seed" else _replica)(args)
        return
    chosen = [n for n in args.notifiers.split(",") if n]
    args.load_before = os.getloadavg()[0]
    rows = []
    with _baseline(args.baseline) as baseline:
        for notifier in chosen:
            if notifier == "slack":
                rows.append(_scenario(args, notifier, baseline, args.baseline))
            rows.append(_scenario(args, notifier, str(ROOT), "this branch"))
    _report(args, rows)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=30)
    parser.add_argument("--delay", type=float, default=0.15, help="seconds per receiver call")
    parser.add_argument("--notifiers", default=",".join(NOTIFIERS))
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "notifier_chaos.md"))
    parser.add_argument("--worker", choices=["seed", "replica"], help=argparse.SUPPRESS)
    for hidden in ("--code", "--db", "--notifier", "--target", "--state", "--start"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    return parser


# --- the receivers (in the bench process) --------------------------------------------------


class Faults:
    """Which calls fail: every 7th a 500, every 11th a 429; counts what was answered."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        self.answered: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()  # per alert key: first messages accepted
        self.lock = threading.Lock()

    def next(self) -> str:
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay)
        outcome = "500" if n % 7 == 0 else "429" if n % 11 == 0 else "ok"
        with self.lock:
            self.answered[outcome] += 1
        return outcome

    def accept(self, key: str) -> None:
        with self.lock:
            self.accepted[key] += 1


def _receiver(name: str, faults: Faults, stack: Any) -> str:
    """Start ``name``'s fake with ``faults``; the URL (or port) replicas talk to."""
    from tests.fakes.http_sink import FakeHttpSink, _Answer
    from tests.fakes.slack import FakeSlack, Scripted
    from tests.fakes.smtp import FakeSmtp

    if name == "slack":

        class ChaosSlack(FakeSlack):
            def handle(self, path: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
                outcome = faults.next()
                if outcome == "500":
                    return Scripted(500, "upstream connect error")
                if outcome == "429":
                    return Scripted(
                        429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "20"}
                    )
                if path.endswith("chat.postMessage") and not params.get("thread_ts"):
                    faults.accept(str(params.get("text", "")).split(":")[1].split()[0])
                return super().handle(path, params, headers)

        return str(stack.enter_context(ChaosSlack().running()).base_url)
    if name in ("pagerduty", "webhook"):

        class ChaosSink(FakeHttpSink):
            def _answer(self, request: Any) -> Any:
                outcome = faults.next()
                if outcome == "500":
                    return _Answer(500, "{}", {})
                if outcome == "429":
                    return _Answer(429, "{}", {"Retry-After": "20"})
                body = request.json()
                if name == "pagerduty" and body["event_action"] == "trigger":
                    faults.accept(body["payload"]["component"])
                if name == "webhook" and body["event"] == "raised":
                    faults.accept(body["alert"]["check_id"])
                return super()._answer(request)

        return str(stack.enter_context(ChaosSink().running()).base_url)

    class ChaosSmtp(FakeSmtp):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            outcome = await asyncio.get_running_loop().run_in_executor(None, faults.next)
            if outcome != "ok":
                return "451 4.3.0 try again later"
            text = envelope.content.decode()
            if "In-Reply-To" not in text:
                subject = next(line for line in text.splitlines() if line.startswith("Subject:"))
                faults.accept(subject.split(":")[-1].strip())
            return await super().handle_DATA(server, session, envelope)

    return str(stack.enter_context(ChaosSmtp().running()).port)


# --- one scenario ---------------------------------------------------------------------------


def _scenario(args: argparse.Namespace, notifier: str, code: str, label: str) -> dict[str, Any]:
    from contextlib import ExitStack

    faults = Faults(args.delay)
    started = time.monotonic()
    cpu_before = _cpu()
    with _database("postgresql") as url, ExitStack() as stack:
        target = _receiver(notifier, faults, stack)
        _spawn(args, "seed", code, url, notifier, target, None).wait()
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="chaos-"))
        states = [str(Path(folder) / f"replica{i}") for i in range(REPLICAS)]
        start = str(time.time())
        procs = [_spawn(args, "replica", code, url, notifier, target, s, start) for s in states]
        killed = _kill_one_mid_call(args, faults, procs, states, code, url, notifier, target, start)
        deadline = time.monotonic() + args.timeout
        for proc in procs:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        statuses = _statuses(url)
    delivered = sum(1 for n in faults.accepted.values() if n >= 1)
    return {
        "notifier": notifier,
        "code": label,
        "alerts": args.alerts,
        "delivered": delivered,
        "duplicates": sum(n - 1 for n in faults.accepted.values() if n > 1),
        "lost": args.alerts - delivered,
        "requests": faults.calls,
        "500s": faults.answered["500"],
        "429s": faults.answered["429"],
        "killed": killed,
        "outbox": statuses,
        "seconds": round(time.monotonic() - started, 1),
        "cpu": round(_cpu() - cpu_before, 1),
    }


def _commit() -> str:
    """HEAD of the code measured; from ``BENCH_COMMIT`` when run from an exported snapshot
    (``git archive HEAD``), which is how a run stays on one commit while work goes on."""
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    if found.returncode != 0:
        return os.environ.get("BENCH_COMMIT", "unknown") + " (exported snapshot)"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return found.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def _cpu() -> float:
    """CPU seconds of this process (the receiver) and its reaped children (seed, replicas)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return sum(u.ru_utime + u.ru_stime for u in (own, children))


def _spawn(
    args: argparse.Namespace,
    worker: str,
    code: str,
    url: str,
    notifier: str,
    target: str,
    state: str | None,
    start: str = "0",
) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--worker", worker, "--code", code, "--db", url]
    command += ["--notifier", notifier, "--target", target, "--start", start]
    command += ["--alerts", str(args.alerts), "--state", state or ""]
    return subprocess.Popen(command, cwd=ROOT)


def _kill_one_mid_call(
    args: argparse.Namespace,
    faults: Faults,
    procs: list[subprocess.Popen[bytes]],
    states: list[str],
    *spawn_args: str,
) -> int:
    """Once a third of the alerts are accepted, SIGKILL a replica that is inside a call and
    start it again; 0 if none was caught mid-call before the outbox drained."""
    code, url, notifier, target, start = spawn_args
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and len(faults.accepted) < args.alerts // 3:
        time.sleep(0.02)
    while time.monotonic() < deadline and any(p.poll() is None for p in procs):
        for i, state in enumerate(states):
            if procs[i].poll() is None and _in_call(state):
                os.kill(procs[i].pid, signal.SIGKILL)
                procs[i].wait()
                procs[i] = _spawn(args, "replica", code, url, notifier, target, state, start)
                return 1
        time.sleep(0.005)
    return 0


def _in_call(state: str) -> bool:
    try:
        return Path(state).read_text() == "1"
    except OSError:
        return False


def _statuses(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM notification GROUP BY status"))
        found = ", ".join(f"{n} {s}" for s, n in sorted(rows))
    engine.dispose()
    return found


# --- in the replica processes ----------------------------------------------------------------


def _seed(args: argparse.Namespace) -> None:
    """Raise ``--alerts`` alerts at once, routed to the notifier's destination."""
    from monitor.alerts.conditions import CheckSignal
    from monitor.alerts.evaluate import evaluate_scan
    from monitor.alerts.policy import AlertPolicy, Routing
    from monitor.store import Base, make_engine, make_sessionmaker

    engine = make_engine(args.db)
    Base.metadata.create_all(engine)
    signals = [
        CheckSignal(f"c{i}", False, "critical", 0.74, 0.8, None, f"c{i} 0.74 < 0.8")
        for i in range(int(args.alerts))
    ]
    with make_sessionmaker(engine)() as session:
        evaluate_scan(
            session=session,
            model="churn",
            window_end=EPOCH,
            signals=signals,
            policy=AlertPolicy(),
            routing=Routing(default_channel=CHANNELS[args.notifier]),
            now=EPOCH,
        )
        session.commit()


def _replica(args: argparse.Namespace) -> None:
    """Deliver until the outbox has no pending row, on the accelerated clock."""
    from sqlalchemy import func, select

    from monitor.alerts.tick import deliver_due
    from monitor.store import Notification, make_engine, make_sessionmaker

    sessions = make_sessionmaker(make_engine(args.db))
    started = float(args.start)

    def clock() -> datetime:
        return EPOCH + timedelta(seconds=(time.time() - started) * SPEED)

    notifier = _Traced(_build(args), args.state)
    while True:
        deliver_due(sessions, now=clock(), notifier=notifier, clock=clock)
        with sessions() as session:
            query = select(func.count()).where(Notification.status == "pending")
            if not session.scalar(query):
                return
        time.sleep(0.05)


def _build(args: argparse.Namespace) -> Any:
    if args.notifier == "slack":
        from monitor.slack.transport import SlackNotifier, make_client

        return SlackNotifier(make_client("xoxb-1", base_url=args.target), interactive=False)
    if args.notifier == "pagerduty":
        from monitor.notifiers.pagerduty import PagerDutyNotifier

        return PagerDutyNotifier(routing_key="R", api_url=args.target)
    if args.notifier == "webhook":
        from monitor.notifiers.webhook import WebhookNotifier

        return WebhookNotifier(url=args.target, secret="s", events={"raised", "updated"})
    from monitor.notifiers.email import EmailNotifier, SmtpServer

    server = SmtpServer(host="127.0.0.1", port=int(args.target), sender="m@ex.com", starttls=False)
    return EmailNotifier(server=server, to=["oncall@example.com"])


class _Traced:
    """The notifier, writing 1 to ``state`` while a call is in flight (for the killer)."""

    def __init__(self, inner: Any, state: str) -> None:
        self.inner, self.state = inner, state

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.inner, name)

        def traced(*a: Any, **kw: Any) -> Any:
            Path(self.state).write_text("1")
            try:
                return method(*a, **kw)
            finally:
                Path(self.state).write_text("0")

        return traced


# --- the report -------------------------------------------------------------------------------


def _report(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    head = (
        "| notifier | code | alerts | delivered | duplicates | lost | requests | 500s | 429s "
        "| killed mid-call | outbox at the end | seconds | CPU s |"
    )
    lines = [
        "# Notifier chaos: 3 replicas, kill -9 mid-delivery, 500s and 429s",
        "",
        f"`python bench/notifier_chaos.py --alerts {args.alerts} --delay {args.delay} "
        f"--notifiers {args.notifiers}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit "
        f"{_commit()}, PostgreSQL, service time {SPEED:g}x the wall clock, 1-min load "
        f"{args.load_before:.1f} before and {os.getloadavg()[0]:.1f} after. Baseline for "
        f"Slack: `{args.baseline}`; PagerDuty, webhooks and email do not exist there.",
        "",
        head,
        "|" + "---|" * 13,
    ]
    for r in rows:
        cells = [r[k] for k in ("notifier", "code", "alerts", "delivered", "duplicates", "lost")]
        cells += [r[k] for k in ("requests", "500s", "429s", "killed", "outbox", "seconds", "cpu")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += [
        "",
        "*delivered*: alerts whose first message (Slack parent, PagerDuty trigger, webhook "
        "`raised`, first email) the receiver accepted at least once; *duplicates*: accepted "
        "more than once, which only a replica killed between the receiver's answer and the "
        "record can cause (docs/integrations.md, Delivery guarantees); *lost*: never accepted.",
        "Whether the killed call had reached the receiver decides if it shows as a duplicate.",
        "A duplicate is absorbed at the receiver: PagerDuty folds it into the incident by",
        "`dedup_key`, a repeated first email has the same `Message-ID`, a repeated webhook the",
        "same `X-Monitor-Delivery`; Slack shows a second parent (later edits go to the newer).",
        "*seconds* is wall time per scenario, most of it the receiver's `--delay` and the "
        "Retry-After waits; *CPU s* is the CPU of the receiver process and every replica "
        "(user + system), which does not depend on the machine's load.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
