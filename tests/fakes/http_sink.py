"""Fake HTTP receivers on loopback: PagerDuty's Events API v2 and a webhook endpoint.

Each records every request (path, headers, raw body) and answers 202 unless told to fail:
``fail_next(status, headers=..., times=...)`` scripts 5xx, 429 with Retry-After or a 4xx.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.slack import serve


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Answer:
    status: int
    body: str
    headers: dict[str, str]


class FakeHttpSink:
    """Records POSTs; answers 202 ``{"status": "success"}`` (what PagerDuty says)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._script: list[_Answer] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(
        self, status: int, *, headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        answer = _Answer(status, json.dumps({"status": "error"}), headers or {})
        with self._lock:
            self._script.extend([answer] * times)

    def received(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def _answer(self, request: Request) -> _Answer:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.pop(0)
        body = {"status": "success", "message": "Event processed"}
        if request.body.startswith(b"{"):
            body["dedup_key"] = json.loads(request.body).get("dedup_key", "")
        return _Answer(202, json.dumps(body), {})

    @contextmanager
    def running(self) -> Iterator[FakeHttpSink]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = sink._answer(Request(self.path, dict(self.headers), raw))
                data = answer.body.encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        with serve(Handler) as self._server:
            yield self
