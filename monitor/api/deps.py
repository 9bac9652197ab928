"""Request dependencies shared by the routers: state, sessions, bearer-token checks."""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from monitor.api.app import AppState

_bearer = HTTPBearer(auto_error=False)


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


def _matches(credentials: HTTPAuthorizationCredentials | None, token: str | None) -> bool:
    if credentials is None or token is None:
        return False
    return hmac.compare_digest(credentials.credentials.encode(), token.encode())


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})
