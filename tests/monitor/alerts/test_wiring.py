"""The scan core's stored results drive alerts; the migration creates the alert tables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.alerts.wiring import (
    alerting_checks,
    evaluate_stored_scan,
    policy_for,
    resolve_removed,
    routing_for,
)
from monitor.config import Config, parse_config
from monitor.run.notifiers import interactive
from monitor.store import Alert, CheckResult, Scan, make_sessionmaker, migrate
from tests.monitor.alerts.conftest import HOUR, T0

CONFIG = {
    "sources": {"prod": {"url": "sqlite://"}},
    "slack": {
        "token": "xoxb-1",
        "signing_secret": "s3cret",
        "channel": "#ml-alerts",
        "critical": {"channel": "#oncall", "mention": "<!subteam^S1>"},
    },
    "api": {"public_url": "https://monitor.example.com"},
    "models": [
        {
            "name": "churn",
            "source": "prod",
            "table": "preds",
            "timestamp": "ts",
            "features": {"numerical": ["age", "income"]},
            "prediction": "pred",
            "target": "label",
            "task": "binary_classification",
            "reference": {"previous": "7d"},
            "schedule": {"every": "1h"},
            "checks": {
                "drift": {"per_column": {"income": {"method": "psi", "severity": "critical"}}},
                "thresholds": [
                    {"metric": "accuracy", "min": 0.85, "severity": "warning"},
                    {"metric": "accuracy", "min": 0.80, "severity": "critical"},
                ],
            },
            "alerts": {"channel": "#churn", "clear_after": 2, "remind_every": "2h"},
        }
    ],
}


@pytest.fixture
def config() -> Config:
    return parse_config(CONFIG, file="monitor.yaml")


def _scan(end, results: list[CheckResult]) -> Scan:  # type: ignore[no-untyped-def]
    scan = Scan(
        model="churn",
        window_start=end - timedelta(days=1),
        window_end=end,
        reference={},
        config_hash="x",
        status="failed",
        started_at=end,
        finished_at=end,
    )
    scan.results.extend(results)
    return scan


def _result(check: str, passed: bool | None, severity: str | None = None) -> CheckResult:
    return CheckResult(
        check=check,
        method="m",
        value=0.3,
        threshold=0.2,
        passed=passed,
        severity=severity,
        reason=None,
        details={},
    )


def test_config_maps_to_policy_routing_and_alerting_checks(config: Config) -> None:
    model = config.models[0]
    policy = policy_for(model)
    assert (policy.clear_after, policy.channel) == (2, "#churn")
    assert policy.reminder_interval("warning") == timedelta(hours=2)
    routing = routing_for(config)
    assert routing.channel_for(severity="critical", model_channel="#churn") == "#oncall"
    assert routing.channel_for(severity="warning", model_channel="#churn") == "#churn"
    assert routing.mention_for("critical") == "<!subteam^S1>"
    assert alerting_checks(model) == {
        "accuracy",
        "dataset_drift",
        "drift:income",
        "missing_share:age",
        "missing_share:income",
        "prediction_drift",
        "target_drift",
    }
    assert interactive(config)


def test_stored_scan_raises_alerts_only_for_alerting_checks(
    db_url: str, engine: Engine, config: Config
) -> None:
    migrate.upgrade(db_url)
    with make_sessionmaker(engine)() as session:
        scan = _scan(
            T0,
            [
                _result("drift:age", False),
                _result("drift:income", False, "critical"),
                _result("accuracy", None),
            ],
        )
        session.add(scan)
        session.flush()
        done = evaluate_stored_scan(
            session=session, scan=scan, model=config.models[0], config=config, now=T0
        )
        session.commit()
    assert [(t.check_id, t.kind, t.severity) for t in done] == [
        ("drift:income", "raised", "critical")
    ]


def test_migrated_database_allows_one_open_alert_per_key(db_url: str, engine: Engine) -> None:
    migrate.upgrade(db_url)

    def alert(state: str) -> Alert:
        return Alert(
            model="churn",
            check_id="accuracy",
            segment="",
            state=state,
            severity="warning",
            condition="warning",
            occurrences=1,
            summary="",
            raised_at=T0,
            version=1,
        )

    with Session(engine) as session:
        session.add_all([alert("resolved"), alert("resolved"), alert("firing")])
        session.commit()
        session.add(alert("recovered"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_downgrade_removes_the_alert_tables(db_url: str, engine: Engine) -> None:
    migrate.upgrade(db_url)
    assert "notification" in inspect(engine).get_table_names()
    from alembic import command

    command.downgrade(migrate.alembic_config(db_url), "20261124_01")
    names = set(inspect(engine).get_table_names())
    assert not names & {"alert", "alert_event", "notification", "silence", "alert_condition"}
    assert "scan" in names


def test_alerts_of_removed_checks_resolve_at_start(
    db_url: str, engine: Engine, config: Config
) -> None:
    migrate.upgrade(db_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        scan = _scan(T0, [_result("drift:income", False, "critical")])
        session.add(scan)
        session.flush()
        evaluate_stored_scan(
            session=session, scan=scan, model=config.models[0], config=config, now=T0
        )
        session.commit()
    trimmed = config.model_copy(deep=True)
    trimmed.models[0].checks.drift.per_column.clear()
    with sessions() as session:
        done = resolve_removed(session=session, config=trimmed, now=T0 + HOUR)
        session.commit()
    assert [(t.check_id, t.reason) for t in done] == [("drift:income", "check_removed")]


def test_buttons_only_where_clicks_can_come_back(config: Config) -> None:
    no_url = config.model_copy(update={"api": config.api.model_copy(update={"public_url": None})})
    assert not interactive(no_url)
    assert config.slack is not None
    with_socket = no_url.model_copy(
        update={"slack": config.slack.model_copy(update={"app_token": SecretStr("xapp-1")})}
    )
    assert interactive(with_socket)
    no_slack = config.model_copy(update={"slack": None})
    assert not interactive(no_slack)
