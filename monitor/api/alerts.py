"""``/api/alerts``: list, show (with events), and ack / unack / snooze / resolve."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from monitor import views
from monitor.alerts.actions import apply_action
from monitor.alerts.dispatch import deliver_due
from monitor.alerts.errors import (
    AlertConflictError,
    AlertNotFoundError,
    AlertStateError,
    InvalidActionError,
)
from monitor.alerts.queries import (
    alert_detail,
    alert_json,
    get_alert,
    list_alerts,
)
from monitor.api.deps import (
    AppState,
    json_response,
    require_read,
    require_write,
    session,
    state,
)
from monitor.windows import parse_duration

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
StateFilter = Literal["firing", "recovered", "acknowledged", "resolved", "open", "all"]


class ActionBody(BaseModel):
    by: str = Field(min_length=1, max_length=200, description="Who acts (kept in the history)")
    note: str | None = Field(default=None, max_length=2000)
    for_: str | None = Field(default=None, alias="for", description="Snooze length, e.g. 4h")
    resolution: str | None = Field(
        default=None, description="resolve: fixed, expected or false_positive"
    )


@router.get("", dependencies=[Depends(require_read)], response_model=views.AlertList)
def alerts_list(
    state: StateFilter = "open",
    model: str | None = None,
    check: str | None = None,
    segment: str | None = None,
    db: Session = Depends(session),
) -> Response:
    rows = list_alerts(session=db, state=state, model=model, check_id=check, segment=segment)
    return json_response(views.AlertList(alerts=[alert_json(a) for a in rows]))


@router.get("/{alert_id}", dependencies=[Depends(require_read)], response_model=views.AlertDetail)
def alert_show(alert_id: int, db: Session = Depends(session)) -> views.AlertDetail:
    try:
        return alert_detail(session=db, alert_id=alert_id)
    except AlertNotFoundError as exc:
        raise HTTPException(404, detail=str(exc)) from None


@router.post(
    "/{alert_id}/{action}",
    dependencies=[Depends(require_write)],
    response_model=views.AlertActionResult,
)
def alert_action(
    alert_id: int,
    action: Literal["ack", "unack", "snooze", "resolve"],
    body: ActionBody,
    background: BackgroundTasks,
    app: AppState = Depends(state),
    db: Session = Depends(session),
) -> views.AlertActionResult:
    now = app.clock()
    try:
        transition = apply_action(
            session=db,
            action=action,
            alert_id=alert_id,
            by=body.by,
            now=now,
            note=body.note,
            duration=_duration(body.for_),
            resolution=body.resolution,
        )
        db.commit()
    except AlertNotFoundError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except (AlertConflictError, AlertStateError) as exc:
        db.rollback()
        raise HTTPException(409, detail=str(exc)) from None
    except InvalidActionError as exc:
        db.rollback()
        raise HTTPException(422, detail=str(exc)) from None
    shown = alert_json(get_alert(session=db, alert_id=alert_id))
    # The request's session lives until the background delivery is done: end its read now,
    # so no pooled connection waits on Slack.
    db.close()
    schedule_delivery(background, app)
    return views.AlertActionResult(alert=shown, transition=transition.kind)


def schedule_delivery(background: BackgroundTasks, app: AppState) -> None:
    """Edit the Slack message after the response is sent (the next tick would otherwise)."""
    if app.notifier is None:
        return

    notifier = app.notifier
    background.add_task(
        lambda: deliver_due(app.sessions, now=app.clock(), notifier=notifier, clock=app.clock)
    )


def _duration(text: str | None) -> timedelta | None:
    if text is None:
        return None

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise HTTPException(422, detail=f"for: {exc}") from None
