"""Request bodies are capped before anything reads them: 413 past the limit.

FastAPI reads a JSON body whole before any dependency runs, so without a cap an
unauthenticated client could make the server hold hundreds of megabytes before it answers
401. This pure ASGI middleware refuses a declared ``Content-Length`` above the limit without
reading a byte, and counts the bytes of a body sent without one (chunked), stopping at the
limit. ``/slack/actions`` gets a smaller cap: Slack's payloads are a few kilobytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY = 1024 * 1024
SLACK_MAX_BODY = 64 * 1024
PATH_LIMITS = {"/slack/actions": SLACK_MAX_BODY}


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit; FastAPI answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=_detail(limit))


class BodyLimit:
    """Cap request bodies at ``max_body`` bytes (``path_limits`` may set lower caps)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        path_limits: Mapping[str, int] = PATH_LIMITS,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.path_limits = dict(path_limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = min(self.max_body, self.path_limits.get(scope["path"], self.max_body))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)  # nothing read; the server closes the connection
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _counting(receive, limit), tracked_send)
        except BodyTooLarge:
            # Raised outside FastAPI's handlers (e.g. by a plain Starlette route).
            if started:
                raise
            await _refuse(send, limit)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects a malformed length itself
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _detail(limit)}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is never read
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _detail(limit: int) -> str:
    return f"request body larger than {limit} bytes"
