"""deploy/grafana: the dashboard's structure, and every PromQL expression in it (read by
promql-parser) naming only metrics, and labels of them, that ``/metrics`` really exports
(scraped from the app on a real state DB)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config
from monitor.run import leases
from monitor.store import Alert, Notification
from tests.monitor.dashboard.conftest import store_scan

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "model-monitor.json"


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            exprs.append(variable["query"]["query"])
    return exprs


def selectors(expr: str) -> dict[str, set[str]]:
    """Each metric an expression selects, with the labels it matches on or groups by, read
    by a PromQL parser (Grafana's ``label_values(selector, label)`` is unwrapped first)."""
    grouped: set[str] = set()
    found = re.fullmatch(r"label_values\((.*?)(?:,\s*(\w+))?\)", expr.strip(), re.S)
    if found:
        expr, grouped = found.group(1), {found.group(2)} if found.group(2) else set()
    chosen: dict[str, set[str]] = {}
    _walk(promql_parser.parse(expr), grouped, chosen)
    return chosen


def _walk(node: Any, grouped: set[str], chosen: dict[str, set[str]]) -> None:
    if isinstance(node, promql_parser.MatrixSelector):
        node = node.vector_selector
    if isinstance(node, promql_parser.VectorSelector):
        matchers = {m.name: m.value for m in node.matchers.matchers}
        name = node.name or matchers.pop("__name__")
        chosen.setdefault(name, set()).update(set(matchers) | grouped)
        return
    if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
        grouped = grouped | set(node.modifier.labels)
    if isinstance(node, promql_parser.BinaryExpr):
        matching = node.modifier.matching if node.modifier is not None else None
        on = grouped | (set(matching.labels) if matching is not None else set())
        _walk(node.lhs, on, chosen)
        _walk(node.rhs, on, chosen)
        return
    children = node.args if isinstance(node, promql_parser.Call) else [getattr(node, "expr", None)]
    for child in [*children, getattr(node, "param", None)]:
        if child is not None and not isinstance(child, str | float | int):
            _walk(child, grouped, chosen)


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
    used = set().union(*(selectors(e) for e in _expressions(_dashboard())))
    assert {
        "monitor_model_health",
        "monitor_check_value",
        "monitor_check_threshold",
        "monitor_open_alerts",
        "monitor_scan_duration_seconds",
        "monitor_outbox_backlog",
        "monitor_notification_failures",
        "monitor_channel_notification_failures",
    } <= used


@pytest.mark.parametrize(
    ("expr", "chosen"),
    [
        (
            'sum by (severity) (monitor_open_alerts{model=~"$model"})',
            {"monitor_open_alerts": {"model", "severity"}},
        ),
        (
            "time() - monitor_last_tick_timestamp_seconds",
            {"monitor_last_tick_timestamp_seconds": set()},
        ),
        (
            'label_values(monitor_check_value{model=~"$m"}, check)',
            {"monitor_check_value": {"model", "check"}},
        ),
        ('a{kind="failed"} == on (model) b', {"a": {"kind", "model"}, "b": {"model"}}),
        ('rate(c[5m]) / max without (x) ({__name__="d"})', {"c": set(), "d": {"x"}}),
    ],
)
def test_metrics_and_labels_are_read_from_promql(expr: str, chosen: dict[str, set[str]]) -> None:
    assert selectors(expr) == chosen


def unexported(expr: str, exported: dict[str, set[str]]) -> list[str]:
    """What ``expr`` selects that is not on /metrics (``exported``: labels by metric)."""
    problems = []
    for name, labels in selectors(expr).items():
        if name not in exported:
            problems.append(f"{expr!r} names {name}, which /metrics does not export")
        elif labels - exported[name]:
            problems.append(f"{expr!r}: {name} has no label {sorted(labels - exported[name])}")
    return problems


def _exported(make_client: Any, sessions: sessionmaker[Session], config: Config) -> Any:
    store_scan(sessions, config, 1, accuracy=0.72, age=0.4)
    leases.beat(sessions, "tick", holder="test", at=datetime.now(UTC))
    with sessions() as session:  # a notification refused for good: delivery series have samples
        alert = session.scalars(select(Alert)).first()
        assert alert is not None
        at = datetime.now(UTC)
        session.add(
            Notification(
                alert_id=alert.id,
                kind="post",
                channel="pagerduty:oncall",
                status="failed",
                last_error="PagerDuty refused the request (400)",
                created_at=at,
                next_attempt_at=at,
            )
        )
        session.commit()
    families = text_string_to_metric_families(make_client().get("/metrics").text)
    return {f.name: {label for x in f.samples for label in x.labels} for f in families}


def test_every_expression_names_metrics_and_labels_that_metrics_exports(
    make_client: Any, sessions: sessionmaker[Session], config: Config
) -> None:
    exported = _exported(make_client, sessions, config)
    assert exported["monitor_check_value"] >= {"model", "check"}  # samples were scraped
    problems = [p for expr in _expressions(_dashboard()) for p in unexported(expr, exported)]
    assert problems == []
    # The check can fail: a metric that is not exported, a label a metric does not have.
    assert unexported('monitor_outbox_backlog{model=~"$model"}', exported) == [
        "'monitor_outbox_backlog{model=~\"$model\"}': monitor_outbox_backlog has no label ['model']"
    ]
    assert unexported("sum by (check) (monitor_check_values)", exported) == [
        "'sum by (check) (monitor_check_values)' names monitor_check_values, which /metrics "
        "does not export"
    ]


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
