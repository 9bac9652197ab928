"""The published JSON shapes only grow: every field of the committed schema snapshots is still
there with the same type, and the API documents each shape as its response model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from monitor import views
from tests.contracts.shape import PUBLISHED, SNAPSHOTS, broken, flatten, schema_of


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_shape_keeps_every_field_of_its_snapshot(name: str) -> None:
    snapshot = json.loads((SNAPSHOTS / f"{name}.schema.json").read_text())
    problems = broken(snapshot, schema_of(PUBLISHED[name]))
    assert not problems, (
        f"the {name} JSON shape lost fields (add fields, never rename or remove them):\n  "
        + "\n  ".join(problems)
    )


def test_every_snapshot_belongs_to_a_published_shape() -> None:
    names = {p.name.removesuffix(".schema.json") for p in SNAPSHOTS.glob("*.schema.json")}
    assert names == set(PUBLISHED)


class _Before(views.View):
    name: str
    rows: views.Rows
    items: list[views.DriftedColumn]


class _Renamed(views.View):
    name: str
    rows: dict[str, int | None]
    items: list[views.PerformanceMetric]
    extra: int


def test_a_removed_renamed_or_retyped_field_is_named() -> None:
    problems = broken(schema_of(_Before), schema_of(_Renamed))
    assert "rows.reference (integer|null) was removed or renamed" in problems
    assert "items[].column (string) was removed or renamed" in problems
    assert "items[].score (null|number) was removed or renamed" in problems
    assert not any(p.startswith(("name", "extra")) for p in problems)


def test_flattened_status_report_paths_follow_the_json() -> None:
    paths = flatten(schema_of(views.StatusReport))
    assert paths["models[].alerts.open"] == "integer"
    assert paths["models[].performance{}.value"] == "integer|null|number"
    assert paths["models[].data_drift.columns[].drifted"] == "boolean|null"
    assert paths["models[].operations{}"] == "any"


def test_check_history_publishes_the_alert_period_start_as_from() -> None:
    paths = flatten(schema_of(views.CheckHistory))
    assert paths["alerts[].from"] == "string" and "alerts[].from_" not in paths


def _openapi() -> dict[str, Any]:
    from sqlalchemy.orm import sessionmaker

    from monitor.api.app import ApiSettings, create_app

    app = create_app(sessions=sessionmaker(), settings=ApiSettings(token="t"))
    with TestClient(app) as client:
        return client.get("/openapi.json").json()  # type: ignore[no-any-return]


def test_every_json_endpoint_documents_its_response_model() -> None:
    spec = _openapi()
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation["responses"].get("200", {}).get("content", {})
            if "application/json" not in content or path.startswith("/slack"):
                continue
            if "$ref" not in json.dumps(content["application/json"].get("schema", {})):
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"JSON endpoints without a response model: {missing}"
    assert spec["components"]["schemas"]["StatusReport"]["properties"]["models"]
