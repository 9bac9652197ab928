"""A loopback TCP proxy the tests can cut and restore: a source database outage on demand."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``. ``cut()`` drops every connection and refuses
    new ones until ``restore()``; ``hold()`` keeps connections open but passes on no answer
    until ``release()`` (a source that hangs); the target server itself keeps running."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = threading.Event()
        self.up.set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.delay = 0.0  # seconds added to every answer of the target: a slow scan
        self._flowing = threading.Event()
        self._flowing.set()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def cut(self) -> None:
        self.up.clear()
        with self._lock:
            for conn in self._open:
                _close(conn)
            self._open.clear()

    def restore(self) -> None:
        self.up.set()

    def hold(self) -> None:
        self._flowing.clear()

    def release(self) -> None:
        self._flowing.set()

    @contextmanager
    def running(self) -> Iterator[TcpProxy]:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._closed.set()
            self.release()
            self.cut()
            thread.join(2)
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up.is_set():
                _close(client)
                continue
            try:
                # Generous: a busy machine may be slow to answer; a cut refuses before this.
                upstream = socket.create_connection(self.target, timeout=30)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open |= {client, upstream}
            for a, b, slow in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=(a, b, slow), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        try:
            while data := source.recv(65536):
                if slow and self.delay:
                    self._closed.wait(self.delay)
                if slow:
                    self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass  # the other side or cut() closed it: the copy ends either way
        finally:
            _close(source)
            _close(sink)


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()
