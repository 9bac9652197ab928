"""docs/examples/retrain_relay.py: the webhook -> pipeline mappings of docs/integrations.md,
fed real signed webhooks from the notifier, forwarding to a fake pipeline API on loopback."""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from monitor import views
from monitor.alerts.notify import DeliveryError, ThreadEvent
from monitor.notifiers.webhook import WebhookNotifier
from monitor.store import Alert
from tests.fakes.http_sink import FakeHttpSink
from tests.monitor.alerts.conftest import T0

RELAY = Path(__file__).resolve().parents[3] / "docs" / "examples" / "retrain_relay.py"
SECRET = "relay-secret"


@pytest.fixture(scope="module")
def relay() -> ModuleType:
    spec = importlib.util.spec_from_file_location("retrain_relay", RELAY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alert() -> Alert:
    return Alert(
        id=12, model="churn", check_id="drift:income", segment="", state="firing",
        severity="critical", condition="critical", occurrences=1, value=0.31, threshold=0.2,
        summary="drift:income psi 0.31 (threshold 0.2)", raised_at=T0, last_breach_at=T0,
        version=1,
    )  # fmt: skip


def _context(alert: Alert) -> tuple[views.ScanDetail | None, views.AlertHealth | None]:
    return None, views.AlertHealth(health="red", reason="critical drift:income")


@pytest.fixture
def pipeline() -> Iterator[FakeHttpSink]:
    with FakeHttpSink().running() as sink:
        yield sink


@pytest.fixture
def served(relay: ModuleType, pipeline: FakeHttpSink) -> Iterator[str]:
    env = {"RELAY_SECRET": SECRET, "TARGET": "airflow", "AIRFLOW_URL": pipeline.base_url}
    env["AIRFLOW_AUTH"] = "monitor:pw"
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    server = ThreadingHTTPServer(("127.0.0.1", 0), relay.Relay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_a_raised_alert_starts_one_airflow_dag_run_with_the_alert_as_conf(
    served: str, pipeline: FakeHttpSink
) -> None:
    hook = WebhookNotifier(url=served, secret=SECRET, events={"raised"}, context=_context)
    ref = hook.post(_alert(), channel="webhook:retrain", mention=None)
    [run] = pipeline.received()
    assert run.path == "/api/v1/dags/retrain/dagRuns"
    assert run.headers["Authorization"] == "Basic bW9uaXRvcjpwdw=="
    body = run.json()
    assert body["dag_run_id"] == f"monitor-churn-{ref.ts}"
    assert body["conf"]["model"] == "churn" and body["conf"]["check"] == "drift:income"
    assert (body["conf"]["value"], body["conf"]["threshold"]) == (0.31, 0.2)


def test_a_bad_signature_starts_nothing_and_is_a_permanent_failure(
    served: str, pipeline: FakeHttpSink
) -> None:
    hook = WebhookNotifier(url=served, secret="not-the-secret", events={"raised"})
    with pytest.raises(DeliveryError) as failed:
        hook.post(_alert(), channel="webhook:retrain", mention=None)
    assert failed.value.permanent and pipeline.received() == []


def test_a_pipeline_api_failing_makes_the_monitor_retry(
    served: str, pipeline: FakeHttpSink
) -> None:
    pipeline.fail_next(503)
    hook = WebhookNotifier(url=served, secret=SECRET, events={"raised"})
    with pytest.raises(DeliveryError) as failed:
        hook.post(_alert(), channel="webhook:retrain", mention=None)
    assert not failed.value.permanent
    hook.post(_alert(), channel="webhook:retrain", mention=None)
    first, second = pipeline.received()
    assert first.json()["dag_run_id"] == second.json()["dag_run_id"]  # one run, by its name


def _body(event: str = "escalated") -> dict[str, Any]:
    hook = WebhookNotifier(url="http://unused", secret=SECRET, events=(), context=_context)
    raw = hook.body(_alert(), event, "d" * 32)
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def test_the_argo_mapping_submits_the_template_with_the_alert_as_parameters(
    relay: ModuleType,
) -> None:
    path, submit = relay.map_argo(_body(), namespace="ml", template="retrain")
    assert path == "/api/v1/workflows/ml/submit"
    assert submit["resourceName"] == "retrain"
    options = submit["submitOptions"]
    assert "model=churn" in options["parameters"] and "event=escalated" in options["parameters"]
    assert options["labels"] == "monitor/model=churn,monitor/check=drift_income"


def test_the_github_mapping_is_a_repository_dispatch_within_githubs_limits(
    relay: ModuleType,
) -> None:
    path, dispatch = relay.map_github(_body(), repository="acme/churn-model")
    assert path == "/repos/acme/churn-model/dispatches"
    assert dispatch["event_type"] == "model-drift"
    assert len(dispatch["client_payload"]) <= 10  # GitHub refuses more top-level keys
    assert dispatch["client_payload"]["delivery"] == "d" * 32


def test_a_reply_event_maps_to_its_public_name(relay: ModuleType, pipeline: FakeHttpSink) -> None:
    hook = WebhookNotifier(url=f"{pipeline.base_url}/h", secret=SECRET, events={"resolved"})
    event = ThreadEvent("acknowledged_resolved", {"by": "alice"})
    hook.reply(_alert(), channel="webhook:x", thread_ts="t", event=event, broadcast=False)
    [sent] = pipeline.received()
    assert sent.json()["event"] == "resolved" and sent.headers["X-Monitor-Event"] == "resolved"
