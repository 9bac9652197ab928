"""Static validation of deploy/: compose against the vendored compose-spec schema, Kubernetes
manifests against the schemas kubernetes-validate ships, and the configs they carry against
our own config loader. Nothing is downloaded; no Docker engine or cluster is needed."""

from __future__ import annotations

import configparser
import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from monitor.config import parse_config
from monitor.config.envsubst import substitute

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S_VERSION = "1.30.0"
ENV = {
    "MONITOR_DB_PASSWORD": "pw",
    "PREDICTIONS_DB_URL": "postgresql+psycopg://reader:pw@logs/predictions",
    "MONITOR_API_TOKEN": "api-token",
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "signing",
}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text())
    # The file says draft 2019-09 under a URI jsonschema does not recognise; name it directly.
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def _k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _kind(kind: str) -> dict[str, Any]:
    return next(doc for _, doc in _k8s_documents() if doc["kind"] == kind)


def test_compose_file_satisfies_the_compose_spec_schema() -> None:
    errors = [e.message for e in _compose_validator().iter_errors(_compose())]
    assert errors == []


def test_compose_schema_rejects_a_broken_dependency_condition() -> None:
    broken = copy.deepcopy(_compose())
    broken["services"]["monitor"]["depends_on"]["migrate"]["condition"] = "service_done"
    assert list(_compose_validator().iter_errors(broken))


def test_compose_starts_the_service_only_after_the_migration_succeeded() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    depends = services["monitor"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["monitor"]["command"][0] == "run"


@pytest.mark.parametrize(
    "doc", [pytest.param(doc, id=f"{name}:{doc['kind']}") for name, doc in _k8s_documents()]
)
def test_kubernetes_manifest_satisfies_its_schema(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_validation_rejects_an_unknown_field() -> None:
    broken = copy.deepcopy(_kind("Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_deployment_runs_two_non_root_replicas_probed_on_healthz_and_readyz() -> None:
    spec = _kind("Deployment")["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    assert spec["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["args"][0] == "run"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["envFrom"] == [{"secretRef": {"name": _kind("Secret")["metadata"]["name"]}}]


def test_migration_job_runs_db_upgrade_with_the_same_config_and_secrets() -> None:
    job = _kind("Job")["spec"]["template"]["spec"]
    service = _kind("Deployment")["spec"]["template"]["spec"]
    assert job["containers"][0]["args"][:2] == ["db", "upgrade"]
    assert job["volumes"] == service["volumes"][:1]
    assert job["containers"][0]["envFrom"] == service["containers"][0]["envFrom"]


def test_secret_provides_every_variable_the_configmap_config_references() -> None:
    text = _kind("ConfigMap")["data"]["monitor.yaml"]
    wanted = set(re.findall(r"\$\{([A-Z_]+)\}", text))
    assert wanted <= set(_kind("Secret")["stringData"])


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(lambda: _kind("ConfigMap")["data"]["monitor.yaml"], id="k8s-configmap"),
        pytest.param(lambda: (DEPLOY / "monitor.yaml").read_text(), id="compose-config"),
    ],
)
def test_shipped_config_is_valid_for_the_service(text: Any) -> None:
    tree = substitute(yaml.safe_load(text()), ENV, file="deploy")
    config = parse_config(tree, file="deploy")
    assert config.state_db.startswith("postgresql+psycopg://")
    assert config.api.token is not None


def test_dockerfile_runs_as_non_root_with_a_readyz_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", text, re.MULTILINE)
    assert "MONITOR_MIGRATIONS=/opt/monitor/alembic" in text
    assert "COPY alembic /opt/monitor/alembic" in text


def test_systemd_unit_migrates_then_runs_as_an_unprivileged_user() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / "monitor.service")
    service = unit["Service"]
    assert service["User"] == "monitor"
    assert service["ExecStartPre"].endswith("monitor db upgrade")
    assert " run " in service["ExecStart"]
    assert service["NoNewPrivileges"] == "true"


def _command_lines() -> list[tuple[str, list[str]]]:
    services = _compose()["services"].items()
    lines = [(f"compose:{name}", s["command"]) for name, s in services if name != "db"]
    for kind in ("Deployment", "Job"):
        lines.append(
            (f"k8s:{kind}", _kind(kind)["spec"]["template"]["spec"]["containers"][0]["args"])
        )
    docker = (DEPLOY / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", docker, re.MULTILINE)
    assert cmd is not None
    lines.append(("Dockerfile:CMD", json.loads(cmd.group(1))))
    unit = (DEPLOY / "systemd" / "monitor.service").read_text()
    for key in ("ExecStartPre", "ExecStart"):
        match = re.search(rf"^{key}=\S+/monitor (.*)$", unit, re.MULTILINE)
        assert match is not None
        lines.append((f"systemd:{key}", match.group(1).split()))
    return lines


@pytest.mark.parametrize(
    ("where", "argv"), _command_lines(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_deployed_command_line_is_accepted_by_the_monitor_cli(
    where: str, argv: list[str]
) -> None:
    import typer.main

    from monitor.cli import build_app

    group = typer.main.get_command(build_app())
    context = group.make_context("monitor", list(argv))
    name, command, rest = group.resolve_command(context, list(argv))
    assert command is not None, where
    while hasattr(command, "resolve_command"):  # a sub-group such as `db`
        sub = command.make_context(name, rest, parent=context)
        name, command, rest = command.resolve_command(sub, rest)
    parsed = command.make_context(name, rest, parent=context)
    assert parsed.params is not None
