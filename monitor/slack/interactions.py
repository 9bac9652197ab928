"""Slack button clicks, however they arrive (``/slack/actions`` over HTTP, or Socket Mode).

Parsing the ``block_actions`` payload and applying the action live here, without slack_sdk,
so both entry points behave the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from monitor.alerts.actions import apply_action
from monitor.alerts.errors import AlertNotFoundError, AlertStateError, InvalidActionError
from monitor.windows import parse_duration

logger = logging.getLogger(__name__)
ACTIONS = {
    "alert_ack": "ack",
    "alert_unack": "unack",
    "alert_snooze": "snooze",
    "alert_resolve": "resolve",
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
    user = payload.get("user")
    user = user if isinstance(user, dict) else {}
    actor = _text(user.get("username")) or _text(user.get("name")) or _text(user.get("id"))
    if not actor:
        raise MalformedInteractionError("the payload names no user")
    url = _text(payload.get("response_url"))
    return ButtonClick(ACTIONS[first["action_id"]], alert_id, duration, actor, url)


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


def click_handler(
    *,
    sessions: Callable[[], Session],
    clock: Callable[[], datetime],
    deliver: Callable[[], object],
    respond: Callable[[str, str], None],
) -> Callable[[dict[str, Any]], None]:
    """What Socket Mode runs per interactive payload: apply, then edit or tell the user."""

    def handle(payload: dict[str, Any]) -> None:
        try:
            click = parse_click(payload)
        except MalformedInteractionError as exc:
            # Socket Mode has no status code to answer with: the log is the only place.
            logger.warning("ignored a Slack interaction: %s", exc)
            return
        if click is None:
            return
        try:
            error = perform_click(click, sessions=sessions, now=clock())
        except AlertNotFoundError as exc:  # a message of a deleted alert, or a forged value
            error = str(exc)
        if error is None:
            deliver()
        elif click.response_url:
            respond(click.response_url, error)

    return handle
