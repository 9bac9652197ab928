"""``/api/models/{name}/retrainings``: list a model's retrainings and record one.

A pipeline that retrains a model posts here when the new model starts serving, so the status
report shows it as "last retraining" (a new ``model_version`` seen by a scan does the same).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from monitor import views
from monitor.api.deps import AppState, require_read, require_write, session, state
from monitor.api.reads import known_model
from monitor.status.report import retraining_json
from monitor.store import list_retrainings, record_retraining
from monitor.windows import parse_instant

router = APIRouter(prefix="/api/models/{name}/retrainings", tags=["models"])


class RetrainingBody(BaseModel):
    by: str = Field(min_length=1, max_length=200, description="Who records it")
    version: str | None = Field(default=None, max_length=200, description="The new version")
    at: str | None = Field(
        default=None, description="When the new model started serving (ISO time); default: now"
    )
    note: str | None = Field(default=None, max_length=2000)


@router.get("", dependencies=[Depends(require_read)], response_model=views.RetrainingList)
def retrainings_list(
    name: str = Depends(known_model),
    limit: int = Query(100, ge=1, le=1000),
    db: Session = Depends(session),
) -> views.RetrainingList:
    """The model's recorded retrainings, newest first."""
    rows = list_retrainings(session=db, model=name, limit=limit)
    return views.RetrainingList(retrainings=[retraining_json(r) for r in rows])


@router.post(
    "",
    status_code=201,
    dependencies=[Depends(require_write)],
    response_model=views.Retraining,
)
def retraining_record(
    body: RetrainingBody,
    name: str = Depends(known_model),
    app: AppState = Depends(state),
    db: Session = Depends(session),
) -> views.Retraining:
    """Record a retraining; the same version posted again updates its record."""
    now = app.clock()
    row = record_retraining(
        session=db,
        model=name,
        version=body.version,
        at=_instant(body.at) if body.at else now,
        recorded_at=now,
        source="api",
        by=body.by,
        note=body.note,
    )
    db.commit()
    return retraining_json(row)


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise HTTPException(422, detail=f"at: {exc}") from None
