"""``POST /slack/actions``: the Acknowledge / Ack with note / Snooze / Resolve buttons of the
alert message, and the submission of the "acknowledge with note" dialog.

The signature is checked on the raw body before anything is parsed; a bad or older-than-5-
minutes signature gets 401 and changes nothing. The compare-and-set runs before the answer
(it is one short transaction); the Slack calls (message edit, the "already acknowledged by"
notice to a loser) run after the response, so Slack gets its answer well within 3 s.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from monitor.alerts.errors import AlertNotFoundError
from monitor.alerts.notify import DeliveryError
from monitor.api.alerts import schedule_delivery
from monitor.api.deps import AppState, state
from monitor.slack.interactions import (
    ButtonClick,
    MalformedInteractionError,
    NoteSubmission,
    ViewOpener,
    open_note_dialog,
    parse_click,
    parse_submission,
    perform_click,
    perform_submission,
)
from monitor.slack.render import NOTE_BLOCK

router = APIRouter(tags=["slack"])
logger = logging.getLogger(__name__)


@router.post("/slack/actions", include_in_schema=False)
async def slack_actions(
    request: Request, background: BackgroundTasks, app: AppState = Depends(state)
) -> Response:
    body = await request.body()
    _verify(app, body, dict(request.headers))
    payload = _payload(body)
    try:
        click = parse_click(payload)
        submission = parse_submission(payload)
    except MalformedInteractionError as exc:
        raise HTTPException(400, detail=str(exc)) from None
    if submission is not None:
        return await _submitted(submission, background, app)
    if click is None:
        return Response(status_code=200)  # e.g. the "Open" link button: nothing to do
    # One short transaction, off the event loop; Slack calls come after the response, but
    # for opening the note dialog, which Slack accepts only within 3 s of the click.
    try:
        if click.action == "ack_note":
            error = await run_in_threadpool(_open_dialog, click, app)
        else:
            error = await run_in_threadpool(
                perform_click, click, sessions=app.sessions, now=app.clock()
            )
    except AlertNotFoundError as exc:
        if click.response_url:
            background.add_task(tell_user, app.respond, click.response_url, str(exc))
        # 404 as for any unknown id; the notice is sent after the response, as below.
        return JSONResponse({"detail": str(exc)}, status_code=404, background=background)
    if error is None:
        schedule_delivery(background, app)
    elif click.response_url:
        background.add_task(tell_user, app.respond, click.response_url, error)
    return Response(status_code=200)


async def _submitted(
    submission: NoteSubmission, background: BackgroundTasks, app: AppState
) -> Response:
    """The note dialog submitted: acknowledge with its note. Empty 200 closes the dialog; a
    refusal ("already acknowledged by ...") is shown under the note field."""
    try:
        error = await run_in_threadpool(
            perform_submission, submission, sessions=app.sessions, now=app.clock()
        )
    except AlertNotFoundError as exc:
        error = str(exc)
    if error is not None:
        return JSONResponse({"response_action": "errors", "errors": {NOTE_BLOCK: error[:150]}})
    schedule_delivery(background, app)
    return Response(status_code=200)


def _open_dialog(click: ButtonClick, app: AppState) -> str | None:
    if not isinstance(app.notifier, ViewOpener):
        return "dialogs need the Slack notifier: acknowledge with `monitor ack ID --note`"
    try:
        return open_note_dialog(click, sessions=app.sessions, opener=app.notifier)
    except DeliveryError as exc:
        return f"could not open the note dialog: {exc}"


def tell_user(respond: Callable[[str, str], None], response_url: str, text: str) -> None:
    """Send ``text`` to the one user who clicked (ephemeral); log if Slack cannot be reached."""
    try:
        respond(response_url, text)
    except DeliveryError as exc:
        # Already answered 200; the user only misses the notice. Say so in the log.
        logger.warning("could not tell the Slack user %r: %s", text, exc)


def _verify(app: AppState, body: bytes, headers: dict[str, str]) -> None:
    secret = app.settings.signing_secret
    if secret is None:
        raise HTTPException(404, detail="Slack interactivity is not configured")
    now = app.clock().timestamp()
    # Imported here, like every use of monitor.slack.transport outside Slack's own code paths:
    # slack_sdk adds about 0.25 s to `monitor run`'s start-up, for nothing without Slack.
    from monitor.slack.transport import verify_request

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
