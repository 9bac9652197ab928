"""A fake Slack Web API: a real HTTP server on loopback that records calls.

Point ``slack_sdk.WebClient(base_url=fake.base_url)`` at it, so the SDK's own request and
error handling run. Responses are scriptable per method (and per channel): 429 with
Retry-After, 5xx, ``ok: false`` errors. It also serves ``response_url`` endpoints.
``delay`` (seconds) makes every Web API call answer that much later: a slow Slack.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    method: str  # Web API method ("chat.postMessage") or "response_url:<name>"
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Scripted:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)
    channel: str | None = None  # only for calls to this channel


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._script: dict[str, list[Scripted]] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self.on_call: Callable[[Call], None] | None = None
        self.delay = 0.0  # seconds before each Web API call is answered
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def response_url(self, name: str) -> str:
        return self.base_url.replace("/api/", f"/respond/{name}")

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        headers: dict[str, str] | None = None,
        channel: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``channel``) with an error."""
        body: dict[str, Any] | str = {"ok": False, "error": error or "internal_error"}
        if status >= 500 and error is None:
            body = "upstream connect error"
        entry = Scripted(status, body, headers or {}, channel)
        with self._lock:
            self._script.setdefault(method, []).extend([entry] * times)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    @staticmethod
    def channel_id(name: str) -> str:
        return name if not name.startswith("#") else "C" + name[1:].upper().replace("-", "_")

    def handle(self, path: str, params: dict[str, Any], headers: dict[str, str]) -> Scripted:
        if path.startswith("/respond/"):
            method = "response_url:" + path.removeprefix("/respond/")
        else:
            method = path.removeprefix("/api/")
        call = Call(method, params, headers)
        with self._lock:
            self.calls.append(call)
            scripted = self._take(method, params.get("channel"))
        if self.on_call is not None:
            self.on_call(call)
        if self.delay and not method.startswith("response_url:"):
            time.sleep(self.delay)  # the call is recorded when it arrives, answered later
        return scripted or self._default(method, params)

    def _take(self, method: str, channel: str | None) -> Scripted | None:
        queue = self._script.get(method, [])
        for i, entry in enumerate(queue):
            if entry.channel is None or entry.channel == channel:
                return queue.pop(i)
        return None

    def _default(self, method: str, params: dict[str, Any]) -> Scripted:
        if method.startswith("response_url:"):
            return Scripted(200, "ok")
        if method == "apps.connections.open" and self.socket_mode_url:
            return Scripted(200, {"ok": True, "url": self.socket_mode_url})
        if method == "auth.test":
            return Scripted(200, {"ok": True, "team": "T-fake", "user": "monitor-bot"})
        if method == "views.open":
            return Scripted(200, {"ok": True, "view": {"id": f"V{next(self._ts)}"}})
        if method in ("chat.postMessage", "chat.update"):
            channel = self.channel_id(str(params.get("channel", "")))
            ts = params.get("ts") or f"{1_700_000_000 + next(self._ts)}.000100"
            return Scripted(200, {"ok": True, "channel": channel, "ts": ts})
        return Scripted(200, {"ok": False, "error": "unknown_method"})

    @contextmanager
    def running(self) -> Iterator[FakeSlack]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = fake.handle(self.path, _parse(raw, self.headers), dict(self.headers))
                data = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data.encode())))
                self.end_headers()
                self.wfile.write(data.encode())

            def log_message(self, *args: Any) -> None:
                pass

        with serve(Handler) as self._server:
            yield self


def _parse(raw: bytes, headers: Any) -> dict[str, Any]:
    content_type = headers.get("Content-Type", "")
    if "json" in content_type:
        parsed = json.loads(raw or b"{}")
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(raw.decode()))


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """A threaded HTTP server on a free loopback port, shut down on exit (the fakes' loop)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
