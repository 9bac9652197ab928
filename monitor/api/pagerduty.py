"""``POST /pagerduty/webhook``: PagerDuty's v3 webhooks acknowledge and resolve alerts here.

The ``X-PagerDuty-Signature`` (``v1=`` HMAC-SHA256 of the raw body under a ``webhook_secret``
of a ``pagerduty:`` destination) is checked before anything is parsed: a bad one gets 401 and
changes nothing. ``incident.acknowledged`` acknowledges the alert whose key is the incident's
``incident_key`` (our dedup_key), ``incident.resolved`` resolves it, with the PagerDuty user
as the actor, through the same compare-and-set as every other path. An incident that is not
ours, or an alert already in that state (our own acknowledgement coming back), is answered
200 and changes nothing, so PagerDuty does not retry it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from monitor.alerts.actions import apply_action
from monitor.alerts.errors import AlertNotFoundError, AlertStateError
from monitor.alerts.queries import get_alert
from monitor.api.alerts import schedule_delivery
from monitor.api.deps import AppState, state
from monitor.config.schema import Config
from monitor.notifiers.pagerduty import IncidentChange, incident_change, verify_signature
from monitor.notifiers.words import alert_id_of, alert_key

router = APIRouter(tags=["pagerduty"])
logger = logging.getLogger(__name__)
_ACTIONS = {"acknowledge": "ack", "resolve": "resolve"}


@router.post("/pagerduty/webhook", include_in_schema=False)
async def pagerduty_webhook(
    request: Request, background: BackgroundTasks, app: AppState = Depends(state)
) -> Response:
    secrets = webhook_secrets(app.config)
    if not secrets:
        raise HTTPException(404, detail="no pagerduty destination has a webhook_secret")
    body = await request.body()
    header = request.headers.get("x-pagerduty-signature")
    if not verify_signature(secrets=secrets, body=body, header=header):
        raise HTTPException(401, detail="invalid PagerDuty signature")
    change = incident_change(_payload(body))
    if change is not None and await run_in_threadpool(_apply, app, change):
        schedule_delivery(background, app)
    return Response(status_code=200)


def webhook_secrets(config: Config | None) -> list[str]:
    if config is None:
        return []
    entries = [e for lists in config.notify_lists().values() for e in lists]
    return [
        e.pagerduty.webhook_secret.get_secret_value()
        for e in entries
        if e.pagerduty is not None and e.pagerduty.webhook_secret is not None
    ]


def _apply(app: AppState, change: IncidentChange) -> bool:
    """Apply ``change`` in one transaction; False when there was nothing to do."""
    alert_id = alert_id_of(change.dedup_key)
    if alert_id is None:
        return False
    with app.sessions() as session:
        try:
            alert = get_alert(session=session, alert_id=alert_id)
            if alert_key(alert) != change.dedup_key:
                return False  # same id, another alert: not an incident of this service
            apply_action(
                session=session,
                action=_ACTIONS[change.action],
                alert_id=alert_id,
                by=change.actor,
                now=app.clock(),
            )
            session.commit()
        except (AlertNotFoundError, AlertStateError) as exc:
            session.rollback()
            logger.info(
                "PagerDuty %s of alert %s: nothing to do (%s)", change.action, alert_id, exc
            )
            return False
    return True


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise HTTPException(400, detail="expected a JSON body") from None
    if not isinstance(payload, dict):
        raise HTTPException(400, detail="expected a JSON object")
    return payload
