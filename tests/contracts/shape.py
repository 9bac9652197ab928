"""Flatten a JSON schema into ``path -> type`` so two versions of a shape can be compared.

``models[].alerts.open: integer`` says that every item of ``models`` has an object ``alerts``
whose ``open`` is an integer. ``$ref``s are followed, so renaming a model class changes no
path; renaming or removing a field does. Run ``python -m tests.contracts.shape`` to write the
snapshots (once per deliberate change, then review the diff).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor import views

SNAPSHOTS = Path(__file__).with_name("schemas")
# Every published shape: the API's response models and the CLI's --json outputs.
PUBLISHED: dict[str, type[views.View]] = {
    "status_report": views.StatusReport,
    "model_status": views.ModelStatus,
    "scan_list": views.ScanList,
    "scan_detail": views.ScanDetail,
    "check_history": views.CheckHistory,
    "metric_history": views.MetricHistory,
    "alert_list": views.AlertList,
    "alert_detail": views.AlertDetail,
    "alert_action": views.AlertActionResult,
    "retraining": views.Retraining,
    "retraining_list": views.RetrainingList,
    "liveness": views.Liveness,
    "readiness": views.Readiness,
    "webhook_body": views.WebhookBody,
}


def schema_of(model: type[views.View]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True, mode="serialization")


def flatten(schema: dict[str, Any]) -> dict[str, str]:
    """Every path of the shape and its type, e.g. ``{"models[].health": "string"}``."""
    out: dict[str, str] = {}
    _walk(schema, schema.get("$defs", {}), "", out)
    return out


def _walk(node: dict[str, Any], defs: dict[str, Any], path: str, out: dict[str, str]) -> None:
    alternatives = [_resolve(a, defs) for a in node.get("anyOf", [node])]
    kinds = sorted({kind for a in alternatives for kind in _kinds(a)})
    if path:
        out[path] = "|".join(kinds) or "any"
    for alt in alternatives:
        for name, child in alt.get("properties", {}).items():
            _walk(_resolve(child, defs), defs, f"{path}.{name}" if path else name, out)
        if isinstance(alt.get("additionalProperties"), dict):
            _walk(_resolve(alt["additionalProperties"], defs), defs, f"{path}{{}}", out)
        if isinstance(alt.get("items"), dict):
            _walk(_resolve(alt["items"], defs), defs, f"{path}[]", out)


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return _resolve(defs[ref.rsplit("/", 1)[-1]], defs) if ref else node


def _kinds(node: dict[str, Any]) -> list[str]:
    kind = node.get("type")
    if kind is None:
        return ["object"] if "properties" in node else []
    return kind if isinstance(kind, list) else [kind]


def broken(snapshot: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What ``current`` lost or changed of ``snapshot``; new paths are fine."""
    before, now = flatten(snapshot), flatten(current)
    problems = []
    for path, kind in before.items():
        if path not in now:
            problems.append(f"{path} ({kind}) was removed or renamed")
        elif now[path] != kind:
            problems.append(f"{path} changed type from {kind} to {now[path]}")
    return problems


def write_snapshots() -> None:
    SNAPSHOTS.mkdir(exist_ok=True)
    for name, model in PUBLISHED.items():
        text = json.dumps(schema_of(model), indent=2, sort_keys=True) + "\n"
        (SNAPSHOTS / f"{name}.schema.json").write_text(text)


if __name__ == "__main__":
    write_snapshots()
