"""``POST /slack/actions``: the Acknowledge / Snooze / Resolve buttons of the alert message.

The signature is checked on the raw body before anything is parsed; a bad or older-than-5-
minutes signature gets 401 and changes nothing. The compare-and-set runs before the answer
(it is one short transaction); the Slack calls (message edit, the "already acknowledged by"
notice to a loser) run after the response, so Slack gets its answer well within 3 s.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from monitor.alerts.actions import apply_action
from monitor.alerts.errors import AlertStateError, InvalidActionError
from monitor.alerts.notify import DeliveryError
from monitor.api.alerts import schedule_delivery
from monitor.api.app import AppState
from monitor.api.deps import state

router = APIRouter(tags=["slack"])
logger = logging.getLogger(__name__)
ACTIONS = {
    "alert_ack": "ack",
    "alert_unack": "unack",
    "alert_snooze": "snooze",
    "alert_resolve": "resolve",
}


@router.post("/slack/actions", include_in_schema=False)
async def slack_actions(
    request: Request, background: BackgroundTasks, app: AppState = Depends(state)
) -> Response:
    body = await request.body()
    _verify(app, body, dict(request.headers))
    payload = _payload(body)
    action = _first_action(payload)
    if action is None:
        return Response(status_code=200)  # e.g. the "Open" link button: nothing to do
    name, alert_id, duration = action
    actor = _actor(payload)
    # One short transaction, off the event loop; Slack calls come after the response.
    error = await run_in_threadpool(_apply, app, name, alert_id, actor, duration)
    if error is not None:
        _tell_user(background, app, payload, error)
    else:
        schedule_delivery(background, app)
    return Response(status_code=200)


def _apply(
    app: AppState, name: str, alert_id: int, actor: str, duration: timedelta | None
) -> str | None:
    """Apply the action; return the message for the user when it does not apply."""
    with app.sessions() as db:
        try:
            apply_action(
                session=db,
                action=name,
                alert_id=alert_id,
                by=actor,
                now=app.clock(),
                duration=duration,
            )
            db.commit()
        except (AlertStateError, InvalidActionError) as exc:
            db.rollback()
            return str(exc)
    return None


def _verify(app: AppState, body: bytes, headers: dict[str, str]) -> None:
    from monitor.slack.transport import verify_request

    secret = app.settings.signing_secret
    if secret is None:
        raise HTTPException(404, detail="Slack interactivity is not configured")
    now = app.clock().timestamp()
    if not verify_request(signing_secret=secret, body=body, headers=headers, now=now):
        raise HTTPException(401, detail="invalid or expired Slack signature")


def _payload(body: bytes) -> dict[str, Any]:
    try:
        raw = parse_qs(body.decode())["payload"][0]
        payload = json.loads(raw)
    except (KeyError, IndexError, UnicodeDecodeError, json.JSONDecodeError):
        raise HTTPException(400, detail="expected a form field 'payload' with JSON") from None
    if not isinstance(payload, dict):
        raise HTTPException(400, detail="payload must be a JSON object")
    return payload


def _first_action(payload: dict[str, Any]) -> tuple[str, int, timedelta | None] | None:
    from monitor.windows import parse_duration

    actions = payload.get("actions") or []
    if not actions or actions[0].get("action_id") not in ACTIONS:
        return None
    parts = str(actions[0].get("value", "")).split(":")
    try:
        alert_id = int(parts[0])
        duration = parse_duration(parts[2]) if len(parts) > 2 else None
    except ValueError:
        raise HTTPException(400, detail="malformed button value") from None
    return ACTIONS[actions[0]["action_id"]], alert_id, duration


def _actor(payload: dict[str, Any]) -> str:
    user = payload.get("user") or {}
    name = user.get("username") or user.get("name") or user.get("id")
    if not name:
        raise HTTPException(400, detail="payload has no user")
    return str(name)


def _tell_user(
    background: BackgroundTasks, app: AppState, payload: dict[str, Any], text: str
) -> None:
    url = payload.get("response_url")
    if not url:
        return

    def send() -> None:
        try:
            app.respond(str(url), text)
        except DeliveryError as exc:
            # Already answered 200; the loser only misses the notice. Say so in the log.
            logger.warning("could not tell the Slack user %r: %s", text, exc)

    background.add_task(send)
