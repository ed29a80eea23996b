"""Helpers shared by the connector tests (a uniquely named module, unlike ``conftest``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opskit.connectors import fakes

#: 2024-06-01T00:00Z, the fakes' "now".
T0 = 1717200000.0


class FakeClock:
    """``clock()`` returns the current fake time; ``sleep(s)`` records and advances it."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@contextmanager
def served(fake: Any) -> Iterator[str]:
    """Serve a fake on a real loopback HTTP server."""
    with fakes.serve(fake) as url:
        yield url
