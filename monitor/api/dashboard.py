"""The dashboard: one static page (``/``) and its files (``/static``), plus the drill-down
report of a scan (``/reports/{scan_id}.html``).

Plain HTML, CSS and JavaScript shipped inside the package: no build step, no CDN, so the
page works on a machine without internet. The page reads the JSON API; its buttons send
the API token the user types once (kept in the browser's session storage).
"""

from __future__ import annotations

from collections import OrderedDict
from importlib import resources

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from monitor.api.deps import AppState, require_report_read, session, state
from monitor.api.docs import mount_docs
from monitor.errors import MonitorError
from monitor.windows import isoformat_z

router = APIRouter(tags=["dashboard"])


def static_dir() -> str:
    return str(resources.files("monitor") / "static")


#: Reports kept in memory per process (a shared link opened by a team builds it once; each
#: page is a few MB, Evidently's script inlined).
REPORTS_KEPT = 4


class ReportCache:
    """The last :data:`REPORTS_KEPT` reports, keyed by scan, its finish time and the config."""

    def __init__(self) -> None:
        self.pages: OrderedDict[tuple[int, str, int], str] = OrderedDict()

    def get(self, key: tuple[int, str, int]) -> str | None:
        page = self.pages.get(key)
        if page is not None:
            self.pages.move_to_end(key)
        return page

    def put(self, key: tuple[int, str, int], page: str) -> None:
        self.pages[key] = page
        while len(self.pages) > REPORTS_KEPT:
            self.pages.popitem(last=False)


def mount(app: FastAPI) -> None:
    app.state.reports = ReportCache()
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    mount_docs(app, static_dir=static_dir())


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    # The page itself holds no data; the API calls it makes are checked for the read token.
    return FileResponse(f"{static_dir()}/index.html", media_type="text/html")


@router.get(
    "/reports/{scan_id}.html",
    response_class=HTMLResponse,
    dependencies=[Depends(require_report_read)],
)
def scan_report(
    scan_id: int,
    request: Request,
    app: AppState = Depends(state),
    db: Session = Depends(session),
) -> HTMLResponse:
    """The Evidently drill-down report of one scan, on a bounded sample of its windows."""
    # Imported on first use: the report reads the sources (pandas, pyarrow) and Evidently,
    # which the rest of the API never needs, and `monitor run` must answer /healthz first.
    from monitor.report import build_report, find_scan

    if app.config is None:
        raise HTTPException(503, detail="this API was started without a config")
    cache: ReportCache = request.app.state.reports
    try:
        scan = find_scan(session=db, model=None, scan_id=scan_id)
        key = (scan.id, isoformat_z(scan.finished_at), id(app.config))
        html = cache.get(key)
        if html is None:
            html = build_report(app.config, session=db, scan_id=scan_id)
            cache.put(key, html)
    except MonitorError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    return HTMLResponse(html)
