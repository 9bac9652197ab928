"""deploy/grafana: the dashboard's structure, and every PromQL expression in it naming only
metrics that ``/metrics`` really exports (scraped from the app on a real state DB)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config
from tests.monitor.dashboard.conftest import store_scan

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "model-monitor.json"
# PromQL's own words: functions, aggregations, modifiers. Any other bare name is a metric.
PROMQL_WORDS = {"sum", "by", "without", "time", "rate", "max", "min", "avg", "count", "on"}
PROMQL_WORDS |= {"label_values", "ignoring", "group_left", "group_right", "and", "or", "unless"}


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            exprs.append(variable["query"]["query"])
    return exprs


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: bare identifiers outside ``{...}`` and
    strings that are neither PromQL words nor followed by ``(``."""
    stripped = re.sub(r",\s*\w+\s*\)\s*$", ")", expr) if expr.startswith("label_values") else expr
    stripped = re.sub(r'"[^"]*"', '""', stripped)
    stripped = re.sub(r"\{[^}]*\}", "{}", stripped)
    stripped = re.sub(r"\((\s*\w+\s*(,\s*\w+\s*)*)\)(?=\s*\()", "()", stripped)  # by (a, b) (
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", stripped):
        after = stripped[match.end() :].lstrip()
        if match.group() not in PROMQL_WORDS and not after.startswith("("):
            names.add(match.group())
    return names


def test_the_dashboard_has_grafanas_structure() -> None:
    schema = json.loads((DEPLOY / "schemas" / "grafana-dashboard.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(_dashboard())]
    assert errors == []


def test_the_schema_refuses_a_broken_panel() -> None:
    schema = json.loads((DEPLOY / "schemas" / "grafana-dashboard.schema.json").read_text())
    broken = _dashboard()
    broken["panels"][0]["gridPos"]["w"] = 30
    del broken["panels"][1]["targets"][0]["expr"]
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(broken))
    assert len(errors) == 2


def test_panels_have_unique_ids_and_do_not_overlap_on_the_grid() -> None:
    panels = _dashboard()["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24, panel["title"]
        mine = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine


def test_the_dashboard_covers_health_checks_alerts_scans_and_delivery() -> None:
    used = set().union(*(metric_names(e) for e in _expressions(_dashboard())))
    assert {
        "monitor_model_health",
        "monitor_check_value",
        "monitor_check_threshold",
        "monitor_open_alerts",
        "monitor_scan_duration_seconds",
        "monitor_outbox_backlog",
        "monitor_notification_failures",
    } <= used


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (severity) (monitor_open_alerts{model=~"$model"})', {"monitor_open_alerts"}),
        ("time() - monitor_last_tick_timestamp_seconds", {"monitor_last_tick_timestamp_seconds"}),
        ('label_values(monitor_check_value{model=~"$m"}, check)', {"monitor_check_value"}),
        ('a{kind="failed"} == 0', {"a"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_every_expression_names_metrics_that_metrics_exports(
    make_client: Any, sessions: sessionmaker[Session], config: Config
) -> None:
    store_scan(sessions, config, 1, accuracy=0.72, age=0.4)
    families = text_string_to_metric_families(make_client().get("/metrics").text)
    exported = {f.name for f in families}
    for expr in _expressions(_dashboard()):
        missing = metric_names(expr) - exported
        assert not missing, f"{expr!r} names metrics /metrics does not export: {missing}"


def test_compose_provisions_prometheus_scraping_the_service_and_grafana() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.grafana.yaml").read_text())
    base = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text())
    assert list(jsonschema.Draft201909Validator(schema).iter_errors(compose)) == []
    services = set(base["services"]) | set(compose["services"])
    for name, service in compose["services"].items():
        assert set(service.get("depends_on", [])) <= services, name
    mounts = compose["services"]["grafana"]["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/monitor.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    [job] = prometheus["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["monitor:8000"]  # compose.yaml's service
    assert "8000:8000" in base["services"]["monitor"]["ports"][0]
    datasource = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    )
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
