"""deploy/compose.spark.yaml: valid against the compose-spec schema, the monitor built with
the hive extra and started after Spark answers, and its config a valid monitor config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from monitor.config import load_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.spark.yaml").read_text())  # type: ignore[no-any-return]


def test_the_spark_compose_file_satisfies_the_compose_spec_schema() -> None:
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    assert [e.message for e in validator.iter_errors(_compose())] == []


def test_the_monitor_reads_spark_through_the_hive_extra_once_spark_is_healthy() -> None:
    services = _compose()["services"]
    monitor = services["monitor"]
    assert monitor["build"]["args"]["MONITOR_EXTRAS"] == "[hive]"
    assert monitor["environment"]["PREDICTIONS_DB_URL"].startswith("hive://")
    assert monitor["depends_on"]["spark"] == {"condition": "service_healthy"}
    assert monitor["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    command = services["spark"]["command"]
    assert "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2" in command
    assert "spark.sql.session.timeZone=UTC" in command
    pyproject = (DEPLOY.parent / "pyproject.toml").read_text()
    assert '\nhive = ["pyhive>=0.7", "thrift>=0.16", "thrift-sasl' in pyproject
    assert 'ARG MONITOR_EXTRAS=""' in (DEPLOY / "Dockerfile").read_text()


def test_the_spark_monitor_config_parses_with_warehouse_mode(monkeypatch: Any) -> None:
    for name in ("MONITOR_DB_PASSWORD", "MONITOR_API_TOKEN"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("PREDICTIONS_DB_URL", "hive://monitor@spark:10000/default")
    path = DEPLOY / "monitor.spark.yaml"
    config = load_config(path)
    assert config.models[0].warehouse is True
    assert config.sources["spark"].url.get_secret_value().startswith("hive://")
