"""Retrainings: recorded by the API, the CLI or a new model_version in a scan, shown as the
last retraining, with the next one from the model's ``retraining:`` schedule."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from monitor.cli import build_app
from monitor.config import Config
from monitor.status import model_status
from monitor.store import list_retrainings, note_versions, record_retraining
from tests.monitor.dashboard.conftest import API_TOKEN, NOW, THRESHOLDS
from tests.monitor.scancore.conftest import day, make_config, model_dict

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def test_a_retraining_posted_to_the_api_is_the_last_retraining(make_client: Any) -> None:
    client = make_client()
    body = {"by": "ana", "version": "v2", "at": "2026-03-05T12:00:00Z", "note": "new features"}
    assert client.post("/api/models/churn/retrainings", json=body).status_code == 401
    assert client.get("/api/models/churn").json()["last_retraining"] is None
    posted = client.post("/api/models/churn/retrainings", json=body, headers=AUTH)
    assert posted.status_code == 201, posted.text
    assert posted.json()["source"] == "api" and posted.json()["recorded_by"] == "ana"
    last = client.get("/api/models/churn").json()["last_retraining"]
    assert (last["version"], last["retrained_at"], last["note"]) == (
        "v2",
        "2026-03-05T12:00:00Z",
        "new features",
    )
    listed = client.get("/api/models/churn/retrainings").json()["retrainings"]
    assert [r["version"] for r in listed] == ["v2"]


def test_a_retraining_for_an_unknown_model_or_a_bad_time_is_refused(make_client: Any) -> None:
    client = make_client()
    unknown = client.post("/api/models/nope/retrainings", json={"by": "ana"}, headers=AUTH)
    assert unknown.status_code == 404 and "churn" in unknown.json()["detail"]
    bad = client.post(
        "/api/models/churn/retrainings", json={"by": "ana", "at": "yesterday"}, headers=AUTH
    )
    assert bad.status_code == 422 and "at:" in bad.json()["detail"]


def test_a_new_model_version_seen_by_a_scan_is_recorded_once_at_its_first_window(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        note_versions(session=session, model="churn", versions=["v1"], seen_from=day(3), now=NOW)
        note_versions(
            session=session, model="churn", versions=["v1", "v2"], seen_from=day(4), now=NOW
        )
        # a backfill scanning an older window later moves the first sighting back
        note_versions(session=session, model="churn", versions=["v1"], seen_from=day(1), now=NOW)
        session.commit()
        rows = {r.version: r for r in list_retrainings(session=session, model="churn")}
    assert set(rows) == {"v1", "v2"}
    assert rows["v1"].retrained_at == day(1) and rows["v2"].retrained_at == day(4)
    assert {r.source for r in rows.values()} == {"scan"}


def test_a_recorded_retraining_is_not_moved_by_later_scans(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        record_retraining(
            session=session,
            model="churn",
            version="v2",
            at=day(4) + timedelta(hours=6),
            recorded_at=NOW,
            source="cli",
        )
        note_versions(session=session, model="churn", versions=["v2"], seen_from=day(2), now=NOW)
        session.commit()
        (row,) = list_retrainings(session=session, model="churn")
    assert (row.retrained_at, row.source) == (day(4) + timedelta(hours=6), "cli")


def test_next_retraining_follows_the_schedule_or_the_period_after_the_last(
    migrated: str, sessions: sessionmaker[Session]
) -> None:
    cron = model_dict(checks={"thresholds": THRESHOLDS}, retraining={"schedule": "0 3 1 * *"})
    every = model_dict(name="eta", retraining={"every": "30d"})
    config = make_config(migrated, cron, every)
    with sessions() as session:
        assert model_status(config.model("eta"), session=session, now=NOW).next_retraining is None
        note_versions(session=session, model="eta", versions=["e1"], seen_from=day(2), now=NOW)
        eta = model_status(config.model("eta"), session=session, now=NOW)
        churn = model_status(config.model("churn"), session=session, now=NOW)
    assert eta.last_retraining is not None and eta.last_retraining.version == "e1"
    assert eta.next_retraining == "2026-04-02T00:00:00Z"  # day(2) + 30 days
    assert churn.next_retraining == "2026-04-01T03:00:00Z"


def test_a_bad_retraining_schedule_names_its_key(migrated: str) -> None:
    import pytest

    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match="retraining"):
        make_config(migrated, model_dict(retraining={"schedule": "every tuesday"}))
    with pytest.raises(ConfigError, match="exactly one of schedule"):
        make_config(migrated, model_dict(retraining={}))


def test_monitor_retrained_records_one_shown_by_status(
    config: Config, tmp_path: Path, migrated: str
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        json.dumps(
            {"state_db": migrated, "sources": {"logs": {"url": migrated}}, "models": [model_dict()]}
        ),
        encoding="utf-8",
    )
    runner = CliRunner()
    args = ["retrained", "churn", "--version", "v7", "--at", "2026-03-06", "--by", "bob"]
    done = runner.invoke(build_app(), [*args, "-c", str(path)])
    assert done.exit_code == 0, done.output
    assert "churn version v7 retrained at 2026-03-06T00:00:00Z" in done.output
    shown = runner.invoke(build_app(), ["status", "churn", "--json", "-c", str(path)])
    last = json.loads(shown.output)["models"][0]["last_retraining"]
    assert (last["version"], last["source"], last["recorded_by"]) == ("v7", "cli", "bob")
    text = runner.invoke(build_app(), ["status", "churn", "-c", str(path)]).output
    assert "last retraining: 2026-03-06T00:00:00Z (version v7); next retraining: not scheduled" in (
        text
    )
    unknown = runner.invoke(build_app(), ["retrained", "nope", "-c", str(path)])
    assert unknown.exit_code != 0
