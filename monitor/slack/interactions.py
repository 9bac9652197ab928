"""Slack button clicks, however they arrive (``/slack/actions`` over HTTP, or Socket Mode).

Parsing the ``block_actions`` payload and applying the action live here, without slack_sdk,
so both entry points behave the same. "Ack with note" is two steps: the click opens a dialog
(``views.open`` with the click's ``trigger_id``, :func:`open_note_dialog`), and the dialog's
``view_submission`` acknowledges with the note (:func:`parse_submission`,
:func:`perform_submission`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from monitor.alerts.actions import apply_action
from monitor.alerts.errors import AlertNotFoundError, AlertStateError, InvalidActionError
from monitor.alerts.store import load
from monitor.slack.render import ACK_NOTE_CALLBACK, NOTE_BLOCK, ack_note_modal, title
from monitor.windows import parse_duration

logger = logging.getLogger(__name__)
ACTIONS = {
    "alert_ack": "ack",
    "alert_unack": "unack",
    "alert_snooze": "snooze",
    "alert_resolve": "resolve",
    "alert_ack_note": "ack_note",  # opens the note dialog; its submission acknowledges
}


class MalformedInteractionError(ValueError):
    """The payload is not a button click we understand (no user, a bad button value)."""


@dataclass(frozen=True)
class ButtonClick:
    action: str  # ack | unack | snooze | resolve
    alert_id: int
    duration: timedelta | None
    actor: str  # the Slack user's name (or id)
    response_url: str | None
    trigger_id: str | None = None  # lets us open a dialog for this click (for 3 s)


@dataclass(frozen=True)
class NoteSubmission:
    """The "acknowledge with note" dialog, submitted."""

    alert_id: int
    note: str | None
    actor: str


@runtime_checkable
class ViewOpener(Protocol):
    """A notifier that can open a Slack dialog (the Slack notifier)."""

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None: ...


def parse_click(payload: dict[str, Any]) -> ButtonClick | None:
    """The alert action of a ``block_actions`` payload; None for anything else (e.g. Open)."""
    actions = payload.get("actions") or []
    if payload.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return None
    first = actions[0]
    if not isinstance(first, dict) or _text(first.get("action_id")) not in ACTIONS:
        return None
    parts = str(first.get("value", "")).split(":")
    try:
        alert_id = int(parts[0])
        duration = parse_duration(parts[2]) if len(parts) > 2 else None
    except ValueError:
        raise MalformedInteractionError(f"malformed button value {first.get('value')!r}") from None
    actor = _actor(payload)
    url = _text(payload.get("response_url"))
    trigger = _text(payload.get("trigger_id"))
    return ButtonClick(ACTIONS[first["action_id"]], alert_id, duration, actor, url, trigger)


def parse_submission(payload: dict[str, Any]) -> NoteSubmission | None:
    """The note dialog's ``view_submission``; None for any other payload."""
    view = payload.get("view")
    if payload.get("type") != "view_submission" or not isinstance(view, dict):
        return None
    if view.get("callback_id") != ACK_NOTE_CALLBACK:
        return None
    try:
        alert_id = int(str(view.get("private_metadata", "")))
    except ValueError:
        raise MalformedInteractionError(
            f"malformed dialog metadata {view.get('private_metadata')!r}"
        ) from None
    values = (view.get("state") or {}).get("values") or {}
    field = (values.get(NOTE_BLOCK) or {}).get(NOTE_BLOCK) or {}
    note = _text(field.get("value")) if isinstance(field, dict) else None
    return NoteSubmission(alert_id, note.strip() if note else None, _actor(payload))


def _actor(payload: dict[str, Any]) -> str:
    user = payload.get("user")
    user = user if isinstance(user, dict) else {}
    actor = _text(user.get("username")) or _text(user.get("name")) or _text(user.get("id"))
    if not actor:
        raise MalformedInteractionError("the payload names no user")
    return actor


def _text(value: object) -> str | None:
    # Payload fields are strings from Slack; anything else is treated as absent.
    return value if isinstance(value, str) and value else None


def perform_click(
    click: ButtonClick, *, sessions: Callable[[], Session], now: datetime
) -> str | None:
    """Apply the click in one transaction; return what to tell the user if it did not apply."""
    with sessions() as db:
        try:
            apply_action(
                session=db,
                action=click.action,
                alert_id=click.alert_id,
                by=click.actor,
                now=now,
                duration=click.duration,
            )
            db.commit()
        except (AlertStateError, InvalidActionError) as exc:
            db.rollback()
            return str(exc)
    return None


def open_note_dialog(
    click: ButtonClick, *, sessions: Callable[[], Session], opener: ViewOpener
) -> str | None:
    """Open the "acknowledge with note" dialog for ``click``; what to tell the user if not."""
    if click.trigger_id is None:
        return "this click carries no trigger_id: acknowledge with `monitor ack --note`"
    with sessions() as db:
        alert = load(db, click.alert_id)
        if alert.state != "firing":
            return f"alert {alert.id} is {alert.state}: nothing to acknowledge with a note"
        name = title(alert)
    opener.open_view(trigger_id=click.trigger_id, view=ack_note_modal(click.alert_id, name))
    return None


def perform_submission(
    submission: NoteSubmission, *, sessions: Callable[[], Session], now: datetime
) -> str | None:
    """Acknowledge with the dialog's note; what to show in the dialog if it did not apply."""
    with sessions() as db:
        try:
            apply_action(
                session=db,
                action="ack",
                alert_id=submission.alert_id,
                by=submission.actor,
                now=now,
                note=submission.note,
            )
            db.commit()
        except (AlertStateError, InvalidActionError) as exc:
            db.rollback()
            return str(exc)
    return None


def click_handler(
    *,
    sessions: Callable[[], Session],
    clock: Callable[[], datetime],
    deliver: Callable[[], object],
    respond: Callable[[str, str], None],
    opener: ViewOpener | None = None,
) -> Callable[[dict[str, Any]], None]:
    """What Socket Mode runs per interactive payload: apply, then edit or tell the user."""

    def handle(payload: dict[str, Any]) -> None:
        try:
            click = parse_click(payload)
            submission = parse_submission(payload)
        except MalformedInteractionError as exc:
            # Socket Mode has no status code to answer with: the log is the only place.
            logger.warning("ignored a Slack interaction: %s", exc)
            return
        if submission is not None:
            _submit(submission)
            return
        if click is None:
            return
        try:
            if click.action == "ack_note" and opener is not None:
                error = open_note_dialog(click, sessions=sessions, opener=opener)
            else:
                error = perform_click(click, sessions=sessions, now=clock())
        except AlertNotFoundError as exc:  # a message of a deleted alert, or a forged value
            error = str(exc)
        if error is None:
            deliver()
        elif click.response_url:
            respond(click.response_url, error)

    def _submit(submission: NoteSubmission) -> None:
        try:
            error = perform_submission(submission, sessions=sessions, now=clock())
        except AlertNotFoundError as exc:
            error = str(exc)
        if error is None:
            deliver()
        else:  # the envelope was acknowledged already: the dialog closed, the log says why
            logger.warning("acknowledge with note not applied: %s", error)

    return handle
