"""A state DB that is down, missing or out of free connections is a 503, not a 500.

The answer says which, with a ``Retry-After``; the driver's text goes to the log (which masks
secrets), not to the client. ``/readyz`` has its own answer (see ``ops.readiness``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from monitor.store import UNAVAILABLE, StateDBError, unavailable_reason

logger = logging.getLogger(__name__)
RETRY_AFTER_S = 5


def install_error_handlers(app: FastAPI) -> None:
    for error in (*UNAVAILABLE, StateDBError):
        app.add_exception_handler(error, _unavailable)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    reason = unavailable_reason(exc)
    logger.warning("state DB unavailable for %s %s: %s", request.method, request.url.path, reason)
    kind = "no free connection" if "no free connection" in reason else type(exc).__name__
    return JSONResponse(
        {"detail": f"state DB unavailable ({kind}); retry shortly"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
