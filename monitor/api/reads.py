"""Read endpoints: models (the status report), their scans, one scan, one check over time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from sqlalchemy.orm import Session

from monitor.api.deps import AppState, json_response, require_read, session, state
from monitor.config.schema import Config, ModelConfig
from monitor.status.cache import StatusCache
from monitor.status.history import (
    ScanNotFoundError,
    check_history,
    get_scan,
    list_scans,
    metric_history,
    scan_detail_json,
    scan_json,
)
from monitor.store import WHOLE_WINDOW
from monitor.views import (
    CheckHistory,
    MetricHistory,
    ModelStatus,
    ScanDetail,
    ScanList,
    StatusReport,
    ThresholdLevel,
)

router = APIRouter(prefix="/api", tags=["models"], dependencies=[Depends(require_read)])


def _config(app: AppState = Depends(state)) -> Config:
    if app.config is None:
        raise HTTPException(503, detail="this API was started without a config")
    return app.config


def _model(name: str, config: Config) -> ModelConfig:
    for model in config.models:
        if model.name == name:
            return model
    known = ", ".join(m.name for m in config.models) or "none"
    raise HTTPException(404, detail=f"unknown model {name!r}; known: {known}")


def known_model(name: str, config: Config = Depends(_config)) -> str:
    """The path's model name, or 404 listing the configured ones."""
    return _model(name, config).name


def _cache(request: Request) -> StatusCache:
    cache: StatusCache = request.app.state.status_cache
    return cache


@router.get("/models", response_model=StatusReport)
def models_list(
    app: AppState = Depends(state),
    config: Config = Depends(_config),
    cache: StatusCache = Depends(_cache),
    db: Session = Depends(session),
) -> Response:
    """Every configured model's status report (the shape of ``monitor status --json``)."""
    return json_response(cache.report(config, session=db, now=app.clock()))


@router.get("/models/{name}", response_model=ModelStatus)
def model_show(
    name: str,
    app: AppState = Depends(state),
    config: Config = Depends(_config),
    cache: StatusCache = Depends(_cache),
    db: Session = Depends(session),
) -> Response:
    """One model's status report: health, reason, performance, drift, alerts, action items."""
    model = _model(name, config)
    return json_response(cache.model_status(config, model, session=db, now=app.clock()))


@router.get("/models/{name}/scans", response_model=ScanList)
def model_scans(
    name: str,
    limit: int = Query(100, ge=1, le=1000),
    config: Config = Depends(_config),
    db: Session = Depends(session),
) -> ScanList:
    """The model's scans, newest window first."""
    model = _model(name, config)
    scans = list_scans(session=db, model=model.name, limit=limit)
    return ScanList(scans=[scan_json(s) for s in scans])


@router.get("/models/{name}/checks/{check_id}/history", response_model=CheckHistory)
def check_history_show(
    name: str,
    check_id: str,
    segment: str = Query(WHOLE_WINDOW, description="A segment value; empty: the whole window"),
    limit: int = Query(500, ge=1, le=5000),
    config: Config = Depends(_config),
    db: Session = Depends(session),
) -> CheckHistory:
    """Value, threshold and verdict of one check per scan (oldest first), and its alerts.

    Check ids contain ``:`` (``drift:age``); send them as they are or percent-encoded.
    """
    model = _model(name, config)
    history = check_history(
        session=db, model=model.name, check_id=check_id, segment=segment, limit=limit
    )
    return history.model_copy(update={"levels": threshold_levels(model, check_id)})


def threshold_levels(model: ModelConfig, check_id: str) -> list[ThresholdLevel]:
    """The check's configured ``min``/``max`` levels (a relative drop has no fixed line)."""
    levels = []
    for entry in model.checks.thresholds:
        if entry.check_id != check_id:
            continue
        for bound, value in (("min", entry.min), ("max", entry.max)):
            if value is not None:
                levels.append(
                    ThresholdLevel.model_validate(
                        {"severity": entry.severity, "bound": bound, "value": value}
                    )
                )
    return levels


@router.get("/models/{name}/metrics", response_model=MetricHistory)
def model_metrics(
    name: str,
    limit: int = Query(500, ge=1, le=5000),
    config: Config = Depends(_config),
    db: Session = Depends(session),
) -> MetricHistory:
    """Observed latency, throughput, row counts and performance per scan, oldest first."""
    return metric_history(session=db, model=_model(name, config).name, limit=limit)


@router.get("/scans/{scan_id}", response_model=ScanDetail)
def scan_show(scan_id: int, db: Session = Depends(session)) -> ScanDetail:
    """One scan with its metrics and every check result (whole window and segments)."""
    try:
        scan = get_scan(session=db, scan_id=scan_id)
    except ScanNotFoundError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    return scan_detail_json(scan)
