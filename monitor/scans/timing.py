"""Seconds per phase of a scan, stored with it as ``timings``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class Clock:
    """Seconds per phase into ``timings``; each use has its own start, so a phase may run on
    another thread while the main thread times its own."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 4)

    def timed(self, name: str, work: Callable[[], T]) -> T:
        with self(name):
            return work()
