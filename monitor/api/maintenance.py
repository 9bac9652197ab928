"""``/api/maintenance``: list, plan and cancel maintenance windows (``monitor maintenance``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from monitor import views
from monitor.alerts.errors import InvalidActionError, MaintenanceNotFoundError
from monitor.alerts.maintenance import cancel_maintenance, list_maintenance, plan_maintenance
from monitor.alerts.queries import maintenance_json
from monitor.api.deps import AppState, require_read, require_write, session, state
from monitor.windows import parse_instant

router = APIRouter(prefix="/api/maintenance", tags=["maintenance"])


class PlanBody(BaseModel):
    model: str = Field(min_length=1, max_length=200)
    from_: str | None = Field(default=None, alias="from", description="Start; default now")
    to: str = Field(description="End, ISO 8601 (UTC without a zone)")
    reason: str = Field(default="", max_length=2000)
    by: str = Field(min_length=1, max_length=200, description="Who plans it")


class CancelBody(BaseModel):
    by: str = Field(min_length=1, max_length=200, description="Who cancels it")


@router.get("", dependencies=[Depends(require_read)], response_model=views.MaintenanceList)
def maintenance_list(
    model: str | None = None,
    past: bool = False,
    app: AppState = Depends(state),
    db: Session = Depends(session),
) -> views.MaintenanceList:
    now = app.clock()
    rows = list_maintenance(session=db, now=now, model=model, past=past)
    return views.MaintenanceList(windows=[maintenance_json(w, now=now) for w in rows])


@router.post("", dependencies=[Depends(require_write)], response_model=views.Maintenance)
def maintenance_plan(
    body: PlanBody, app: AppState = Depends(state), db: Session = Depends(session)
) -> views.Maintenance:
    # Without a config (an alerts-only API) any model name is taken as given.
    known = {m.name for m in app.config.models} if app.config is not None else {body.model}
    if body.model not in known:
        names = ", ".join(sorted(known)) or "none"
        raise HTTPException(404, detail=f"unknown model {body.model!r}; known: {names}")
    now = app.clock()
    starts = _instant(body.from_, "from") if body.from_ else now
    try:
        window = plan_maintenance(
            session=db,
            model=body.model,
            starts_at=starts,
            ends_at=_instant(body.to, "to"),
            by=body.by,
            reason=body.reason,
            now=now,
        )
        db.commit()
    except InvalidActionError as exc:
        db.rollback()
        raise HTTPException(422, detail=str(exc)) from None
    return maintenance_json(window, now=now)


@router.post(
    "/{window_id}/cancel", dependencies=[Depends(require_write)], response_model=views.Maintenance
)
def maintenance_cancel(
    window_id: int, body: CancelBody, app: AppState = Depends(state), db: Session = Depends(session)
) -> views.Maintenance:
    now = app.clock()
    try:
        window = cancel_maintenance(session=db, window_id=window_id, by=body.by, now=now)
        db.commit()
    except MaintenanceNotFoundError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except InvalidActionError as exc:
        db.rollback()
        raise HTTPException(409, detail=str(exc)) from None
    return maintenance_json(window, now=now)


def _instant(text: str, field: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise HTTPException(422, detail=f"{field}: {exc}") from None
