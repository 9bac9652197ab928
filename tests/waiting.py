"""Waiting in tests without depending on the machine's speed.

Tests wait on a signal (a condition that becomes true, a server that says it started), never
for a fixed time, and give up only after :data:`PATIENCE`: waits end as soon as their
condition holds, so a generous deadline costs nothing on an idle machine and keeps a busy one
(load 10-20 on 2 cores, as on a developer's machine running other suites) from failing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PATIENCE = 180.0


def wait_for(
    what: str, check: Callable[[], Any], timeout: float = PATIENCE, every: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


@contextmanager
def serving(app: Any, **options: Any) -> Iterator[str]:
    """``app`` under a real uvicorn server on loopback; yields its base URL once it serves.

    The socket is bound here, on a port the OS picks, and handed to uvicorn: no other process
    can take the port between choosing and binding it.
    """
    import uvicorn

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, **({"log_level": "warning"} | options)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        wait_for("uvicorn to start", lambda: server.started or not thread.is_alive())
        assert thread.is_alive(), "uvicorn exited at start (its error is logged above)"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(PATIENCE)
        listener.close()
