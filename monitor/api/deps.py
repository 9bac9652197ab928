"""Request dependencies shared by the routers: the app's state, sessions, bearer-token checks.

The routers and the application factory (:mod:`monitor.api.app`) both import from here; this
module imports neither.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from monitor.alerts.notify import Notifier
from monitor.api.limits import DEFAULT_MAX_BODY
from monitor.config.schema import Config


@dataclass(frozen=True)
class ApiSettings:
    token: str | None = None  # writes need it; without one configured, writes are refused
    read_token: str | None = None  # reads are open unless this is set
    signing_secret: str | None = None  # Slack interactivity; without it /slack/actions is 404
    max_body: int = DEFAULT_MAX_BODY  # bytes; a larger request body is refused with 413


@dataclass(frozen=True)
class AppState:
    """What the routes need, kept on ``app.state.monitor``."""

    sessions: Callable[[], Session]
    settings: ApiSettings
    notifier: Notifier | None
    clock: Callable[[], datetime]
    # Tells one Slack user something privately (response_url); replaced in tests.
    respond: Callable[[str, str], None]
    # The models' config, for the status report and the dashboard; without one those
    # endpoints answer 503 (the alert endpoints need only the state DB).
    config: Config | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


_bearer = HTTPBearer(auto_error=False)


def json_response(view: BaseModel) -> Response:
    """``view`` as published. A route declares it as its ``response_model`` (for OpenAPI) and
    returns this: pydantic built and checked the view already, and FastAPI would dump, validate
    and encode it again (a third of the time of ``/api/models`` on a 100 kB report)."""
    return Response(view.model_dump_json(by_alias=True), media_type="application/json")


def state(request: Request) -> AppState:
    app: AppState = request.app.state.monitor
    return app


def session(app: AppState = Depends(state)) -> Iterator[Session]:
    with app.sessions() as db:
        yield db


def require_write(
    app: AppState = Depends(state),
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> None:
    token = app.settings.token
    if token is None:
        raise _unauthorized("writes are disabled: set api.token in the config")
    if not _matches(credentials, token):
        raise _unauthorized("missing or wrong bearer token")


def require_read(
    app: AppState = Depends(state),
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> None:
    read_token = app.settings.read_token
    if read_token is None:
        return
    if not (_matches(credentials, read_token) or _matches(credentials, app.settings.token)):
        raise _unauthorized("missing or wrong bearer token (api.read_token is set)")


#: The cookie the dashboard sets (path /reports, SameSite=Strict) so a report opens as a plain
#: link when api.read_token is set. Only report reads accept it; writes never take a cookie.
REPORT_COOKIE = "monitor_read"


def require_report_read(
    request: Request,
    app: AppState = Depends(state),
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> None:
    """:func:`require_read`, or the dashboard's report cookie holding a token that reads."""
    cookie = request.cookies.get(REPORT_COOKIE)
    if cookie is not None and credentials is None:
        token = unquote(cookie)  # the page writes it with encodeURIComponent
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    require_read(app, credentials)


def _matches(credentials: HTTPAuthorizationCredentials | None, token: str | None) -> bool:
    if credentials is None or token is None:
        return False
    return hmac.compare_digest(credentials.credentials.encode(), token.encode())


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})
