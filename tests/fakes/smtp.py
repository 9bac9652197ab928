"""A local SMTP sink (aiosmtpd) that records messages and can refuse the next one."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class FakeSmtp:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._refusals: list[str] = []
        self._lock = threading.Lock()
        self.port = 0

    def refuse_next(self, reply: str, *, times: int = 1) -> None:
        """Answer the next DATA with ``reply``, e.g. ``451 4.3.0 try later``."""
        with self._lock:
            self._refusals.extend([reply] * times)

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
        return "250 OK"

    @contextmanager
    def running(self) -> Iterator[FakeSmtp]:
        self.port = _free_port()
        controller = Controller(self, hostname="127.0.0.1", port=self.port)
        controller.start()
        try:
            yield self
        finally:
            controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
