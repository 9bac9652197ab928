"""Replicas split the models by shard: fair shares, handed back and taken over through leases."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import parse_config
from monitor.run import shards
from monitor.run.service import Service
from monitor.sources import SourceEngines
from monitor.store import Alert, Lease, Scan
from tests.monitor.run.conftest import ROOT
from tests.monitor.scancore.conftest import T0, log_frame, model_dict, write

TTL = timedelta(minutes=5)
ALL = frozenset(range(shards.SHARDS))


def converge(sessions: sessionmaker[Session], holders: list[str]) -> dict[str, frozenset[int]]:
    """Claim round after round, as the replicas' shard jobs do, until nothing moves."""
    held: dict[str, frozenset[int]] = {}
    for _ in range(10):
        before = dict(held)
        for holder in holders:
            held[holder] = shards.claim(sessions, holder=holder, ttl=TTL)
        if held == before:
            return held
    raise AssertionError(f"shards still moving after 10 rounds: {held}")


def expire(sessions: sessionmaker[Session], holder: str) -> None:
    """What the lease table looks like once ``holder`` has not renewed for a whole ttl."""
    with sessions() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(Lease).where(Lease.holder == holder).values(expires_at=past))
        session.commit()


def test_a_lone_replica_holds_every_shard(sessions: sessionmaker[Session]) -> None:
    assert shards.claim(sessions, holder="a", ttl=TTL) == ALL


@pytest.mark.parametrize("replicas", [2, 3], ids=["two", "three"])
def test_replicas_converge_to_disjoint_fair_shares_covering_every_shard(
    sessions: sessionmaker[Session], replicas: int
) -> None:
    holders = [f"r{i}" for i in range(replicas)]
    held = converge(sessions, holders)
    assert sum(len(s) for s in held.values()) == shards.SHARDS
    assert frozenset().union(*held.values()) == ALL  # disjoint and covering
    fair = -(-shards.SHARDS // replicas)
    assert all(fair - replicas <= len(s) <= fair for s in held.values()), held
    with sessions() as session:  # the database agrees with what each replica believes
        rows = session.execute(select(Lease.name, Lease.holder)).all()
    in_db = {int(n.split(":")[1]): h for n, h in rows if n.startswith(shards.SHARD)}
    assert in_db == {k: h for h, owned in held.items() for k in owned}


def test_a_dead_replicas_shards_are_taken_over_only_after_its_leases_expire(
    sessions: sessionmaker[Session],
) -> None:
    held = converge(sessions, ["a", "b"])
    assert shards.claim(sessions, holder="a", ttl=TTL) == held["a"]  # b is alive: no grab
    expire(sessions, "b")
    assert shards.claim(sessions, holder="a", ttl=TTL) == ALL


def test_replicas_that_left_long_ago_are_forgotten(sessions: sessionmaker[Session]) -> None:
    converge(sessions, ["a", "b"])
    with sessions() as session:  # b died more than a ttl ago
        past = datetime.now(UTC) - 2 * TTL
        session.execute(update(Lease).where(Lease.holder == "b").values(expires_at=past))
        session.commit()
    assert shards.claim(sessions, holder="a", ttl=TTL) == ALL
    with sessions() as session:
        members = session.scalars(select(Lease.name).where(Lease.name.startswith("replica:")))
        assert list(members) == ["replica:a"]


def test_a_replica_that_shuts_down_hands_its_shards_over_at_once(
    sessions: sessionmaker[Session],
) -> None:
    converge(sessions, ["a", "b"])
    shards.release(sessions, holder="b")
    assert shards.claim(sessions, holder="a", ttl=TTL) == ALL


def test_a_newcomer_gets_its_share_from_a_replica_that_held_everything(
    sessions: sessionmaker[Session],
) -> None:
    assert shards.claim(sessions, holder="a", ttl=TTL) == ALL
    assert shards.claim(sessions, holder="b", ttl=TTL) == frozenset()  # nothing free yet
    held = converge(sessions, ["a", "b"])
    assert len(held["a"]) == len(held["b"]) == shards.SHARDS // 2


def test_every_process_puts_a_model_in_the_same_shard() -> None:
    names = [f"model-{i}" for i in range(6400)]
    code = (
        "import sys; from monitor.run.shards import shard_of; "
        "print([shard_of(n) for n in sys.argv[1:]])"
    )
    # Another process with another string-hash seed (hash() would differ between them).
    other = subprocess.run(
        [sys.executable, "-c", code, *names[:50]],
        env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert other.stdout.strip() == str([shards.shard_of(n) for n in names[:50]])
    counts = Counter(shards.shard_of(n) for n in names)
    assert len(counts) == shards.SHARDS and max(counts.values()) < 2 * 100  # mean 100


# Two replicas in one process on one PostgreSQL, every model's schedule firing on both.

# Three models in the low half of the shards and three in the high half: a replica that held
# everything gives back its highest shards, so both replicas end up with models to scan.
_NAMES = [f"m{i:02d}" for i in range(100)]
MODELS = sorted(
    [n for n in _NAMES if shards.shard_of(n) < shards.SHARDS // 2][:3]
    + [n for n in _NAMES if shards.shard_of(n) >= shards.SHARDS // 2][:3]
)
LATER = T0 + timedelta(days=3)


class _Frozen(datetime):
    """The services' clock just after a window end: one window of each model is due."""

    @classmethod
    def now(cls, tz: Any = None) -> _Frozen:
        return cls.fromtimestamp((LATER + timedelta(minutes=5)).timestamp(), tz)


@pytest.fixture
def two_replicas(
    backend: str, db_url: str, engine: Engine, sessions: sessionmaker[Session]
) -> Iterator[list[Service]]:
    if backend != "postgresql":
        pytest.skip("replicas share one PostgreSQL (SQLite is the single-process store)")
    write(engine, log_frame(T0, 24 * 4), "preds")
    models = [model_dict(name=name) for name in MODELS]
    tree = {"state_db": db_url, "sources": {"logs": {"url": db_url}}, "models": models}
    config = parse_config(tree, file="test.yaml")
    pair = [Service(config=config, sessions=sessions, engines=SourceEngines(config.sources))]
    pair.append(Service(config=config, sessions=sessions, engines=SourceEngines(config.sources)))
    yield pair
    for service in pair:
        service.engines.dispose()


def recording(service: Service, calls: list[tuple[str, datetime]]) -> None:
    """Record every window ``service`` scans (and still scan it)."""
    real = service.scan_window
    lock = threading.Lock()

    def scan_window(model: Any, end: datetime, **kwargs: Any) -> bool:
        with lock:
            calls.append((model.name, end))
        return real(model, end, **kwargs)

    service.scan_window = scan_window  # type: ignore[method-assign]


def test_two_replicas_firing_every_model_scan_each_due_window_once_and_share_the_work(
    two_replicas: list[Service], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.run.service.datetime", _Frozen)
    a, b = two_replicas
    for _ in range(3):  # the shard job's rounds, until both hold a fair share
        a.claim_shards()
        b.claim_shards()
    assert a.owned.isdisjoint(b.owned) and a.owned | b.owned == ALL
    calls: dict[str, list[tuple[str, datetime]]] = {"a": [], "b": []}
    recording(a, calls["a"])
    recording(b, calls["b"])

    def fire_all(service: Service) -> None:  # every model's schedule fires on every replica
        for name in MODELS:
            service.scheduled_scan(name)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fire_all, [a, b]))

    with sessions() as session:
        rows = session.execute(select(Scan.model, Scan.window_end)).all()
    stored: Counter[tuple[str, datetime]] = Counter((m, end) for m, end in rows)
    scanned = Counter(calls["a"] + calls["b"])
    assert set(stored.values()) == {1} and set(scanned.values()) == {1}
    assert sorted(m for m, _ in scanned) == sorted(m for m, _ in stored) == MODELS
    assert calls["a"] and calls["b"], calls  # both replicas did work
    assert {m for m, _ in calls["a"]} == {m for m in MODELS if a.owns(m)}


def test_a_replica_takes_over_a_dead_ones_models_and_scans_their_due_windows(
    two_replicas: list[Service], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.run.service.datetime", _Frozen)
    a, b = two_replicas
    for _ in range(3):
        a.claim_shards()
        b.claim_shards()
    orphans = [m for m in MODELS if b.owns(m)]  # b dies before its firings: nothing scanned
    assert orphans
    expire(sessions, b.holder)
    gained = a.claim_shards()
    assert sorted(gained) == orphans  # what the scheduler runs at once (their catch-up)
    for name in gained:
        a.scheduled_scan(name)
    with sessions() as session:
        stored = sorted(session.scalars(select(Scan.model)))
    assert stored == orphans


def test_each_replica_judges_the_staleness_of_its_own_models_only(
    two_replicas: list[Service], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.run.service.datetime", _Frozen)
    a, b = two_replicas
    for _ in range(3):
        a.claim_shards()
        b.claim_shards()
    for service in (a, b):  # every model scanned once, in March
        for name in MODELS:
            service.scheduled_scan(name)
    monkeypatch.setattr("monitor.run.service.datetime", datetime)  # months later: all stale

    def stale() -> set[str]:
        with sessions() as session:
            return set(session.scalars(select(Alert.model).where(Alert.check_id == "stale")))

    b.tick()
    assert stale() == {m for m in MODELS if b.owns(m)}
    a.tick()
    assert stale() == set(MODELS)
