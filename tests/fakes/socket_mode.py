"""A fake Slack Socket Mode endpoint: a real WebSocket server on loopback.

Fake Slack's ``apps.connections.open`` hands out its URL; the test pushes envelopes the way
Slack does and waits for the app's acknowledgement.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.server import Server, ServerConnection, serve

from tests.waiting import PATIENCE


class FakeSocketMode:
    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self._connection: ServerConnection | None = None
        self._server: Server | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        self._connection = connection
        for message in connection:
            with self._lock:
                self.acks.append(json.loads(message))

    def wait_connected(self, timeout: float = PATIENCE) -> None:
        deadline = time.monotonic() + timeout
        while self._connection is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the app never connected to the Socket Mode endpoint")
            time.sleep(0.02)

    def push_interactive(self, payload: dict[str, Any]) -> str:
        """Send one interactive envelope, as Slack does for a button click."""
        assert self._connection is not None
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": "interactive",
            "payload": payload,
            "accepts_response_payload": False,
        }
        self._connection.send(json.dumps(envelope))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = PATIENCE) -> float:
        """Seconds until the app acknowledged the envelope."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            with self._lock:
                if any(a.get("envelope_id") == envelope_id for a in self.acks):
                    return time.monotonic() - started
            time.sleep(0.01)
        raise TimeoutError(f"envelope {envelope_id} was not acknowledged within {timeout} s")

    @contextmanager
    def running(self) -> Iterator[FakeSocketMode]:
        self._server = serve(self._handle, "127.0.0.1", 0)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            thread.join(timeout=5)
