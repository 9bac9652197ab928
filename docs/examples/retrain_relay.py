"""Start a retraining pipeline from the monitor's signed webhooks (docs/integrations.md).

A small relay, standard library only: it checks the signature and the timestamp, then maps the
body onto one of three pipeline APIs and calls it. Run it beside the pipeline's API::

    RELAY_SECRET=... TARGET=airflow AIRFLOW_URL=http://airflow:8080 AIRFLOW_AUTH=user:pw \\
        python docs/examples/retrain_relay.py --port 9100

and point a ``notify:`` entry at it (``webhook: http://relay:9100/``, ``secret: ${RELAY_SECRET}``,
``events: [raised, escalated]``). The ``map_*`` functions are the payload mappings; each keys
the pipeline run by the body's ``delivery`` (the same on every retry), so a retried webhook
starts the pipeline once: Airflow and Argo refuse a second run of that name (409), GitHub gets
it as ``client_payload.delivery`` to check.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_S = 300


def verified(secret: str, body: bytes, headers: Any, *, now: float) -> bool:
    """The scheme of monitor.notifiers.webhook.sign: v1=HMAC-SHA256("v1:<ts>:<body>")."""
    stamp = headers.get("X-Monitor-Timestamp", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE_S:
        return False
    message = f"v1:{stamp}:".encode() + body
    expected = "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Monitor-Signature", ""))


def _facts(body: dict[str, Any]) -> dict[str, Any]:
    alert = body["alert"]
    scan = body.get("scan") or {}
    return {
        "model": alert["model"],
        "check": alert["check_id"],
        "severity": alert["severity"],
        "event": body["event"],
        "value": alert["value"],
        "threshold": alert["threshold"],
        "window_end": alert["last_breach_at"] or alert["raised_at"],
        "scan_id": scan.get("id"),
        "alert_url": body["links"].get("alert"),
        "delivery": body["delivery"],
    }


def map_airflow(body: dict[str, Any], *, dag_id: str) -> tuple[str, dict[str, Any]]:
    """Airflow 2 stable REST API: trigger a DAG run with the alert as its ``conf``."""
    facts = _facts(body)
    run = {
        "dag_run_id": f"monitor-{facts['model']}-{facts['delivery']}",
        "conf": facts,
        "note": f"{facts['model']}: {body['alert']['summary']} ({facts['event']})",
    }
    return f"/api/v1/dags/{dag_id}/dagRuns", run


def map_argo(body: dict[str, Any], *, namespace: str, template: str) -> tuple[str, dict[str, Any]]:
    """Argo Workflows server API: submit a WorkflowTemplate with the alert as parameters."""
    facts = _facts(body)
    parameters = [f"{k}={v}" for k, v in facts.items() if v is not None]
    submit = {
        "resourceKind": "WorkflowTemplate",
        "resourceName": template,
        "submitOptions": {
            "name": f"retrain-{facts['model'].lower()}-{facts['delivery'][:12]}",
            "parameters": parameters,
            "labels": f"monitor/model={facts['model']},monitor/check={_label(facts['check'])}",
        },
    }
    return f"/api/v1/workflows/{namespace}/submit", submit


def map_github(body: dict[str, Any], *, repository: str) -> tuple[str, dict[str, Any]]:
    """GitHub ``repository_dispatch``: ``on: repository_dispatch: types: [model-drift]``
    in the workflow; ``client_payload`` allows at most 10 top-level keys."""
    facts = _facts(body)
    dispatch = {"event_type": "model-drift", "client_payload": facts}
    return f"/repos/{repository}/dispatches", dispatch


def _label(value: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in value)[:63]


def forward(body: dict[str, Any], env: dict[str, str]) -> int:
    """Map ``body`` for ``$TARGET`` and call that API; its HTTP status."""
    target = env["TARGET"]
    if target == "airflow":
        path, payload = map_airflow(body, dag_id=env.get("AIRFLOW_DAG", "retrain"))
        auth = "Basic " + base64.b64encode(env["AIRFLOW_AUTH"].encode()).decode()
        base = env["AIRFLOW_URL"]
    elif target == "argo":
        namespace, template = env.get("ARGO_NAMESPACE", "ml"), env.get("ARGO_TEMPLATE", "retrain")
        path, payload = map_argo(body, namespace=namespace, template=template)
        auth, base = f"Bearer {env['ARGO_TOKEN']}", env["ARGO_URL"]
    else:
        path, payload = map_github(body, repository=env["GITHUB_REPOSITORY"])
        auth, base = f"Bearer {env['GITHUB_TOKEN']}", "https://api.github.com"
    request = urllib.request.Request(
        base.rstrip("/") + path,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": auth},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return 200 if exc.code == 409 else exc.code  # 409: this delivery already started a run


class Relay(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not verified(os.environ["RELAY_SECRET"], body, self.headers, now=time.time()):
            self.send_response(401)
        else:
            status = forward(json.loads(body), dict(os.environ))
            # A pipeline API failing is a 502 for the monitor: it retries with back-off.
            self.send_response(204 if status < 300 else 502)
        self.end_headers()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9100)
    port = parser.parse_args().port
    ThreadingHTTPServer(("0.0.0.0", port), Relay).serve_forever()
