"""Wall-clock limits on HTTP: per request (``timeout_s``) and per pull (``deadline_s``).

httpx's timeouts bound each socket operation, so a server that trickles a few
bytes every second never trips a 2 s read timeout and a page can take minutes.
opskit bounds real (monotonic) time instead, in three layers:

* each attempt gets an expiry, ``min(start + timeout_s, end of the pull)``, held
  in a context variable while it runs (:func:`expiring_at`);
* the default transport (:func:`deadline_transport`) wraps httpcore's network
  backend so that every connect, read and write timeout is clamped to the time
  left: a blocking read wakes up at the expiry, also while the status line and
  headers trickle in;
* the body is read in chunks and the expiry checked after each one, which also
  covers injected transports (see ``BaseConnector``).

A pull (one public connector call, e.g. ``fetch_issues``: every page, retry and
backoff) has a :class:`Budget`. Sleeps count for what they were asked to wait,
so an injected fake ``sleep`` spends the budget like a real one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

__all__ = ["Budget", "deadline_transport", "expiring_at", "time_left"]

logger = logging.getLogger(__name__)

_EXPIRY: ContextVar[float | None] = ContextVar("opskit_http_expiry", default=None)


class Budget:
    """The wall-clock budget of one pull.

    Parameters
    ----------
    seconds
        How long the pull may take in total.

    Examples
    --------
    >>> b = Budget(5.0)
    >>> b.slept(asked=2.0, real=0.0)  # a fake sleep still spends the budget
    >>> 2.9 < b.remaining() <= 3.0
    True
    """

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("a budget must be > 0 seconds")
        self.seconds = float(seconds)
        self._start = time.monotonic()
        self._credit = 0.0

    def elapsed(self) -> float:
        """Seconds spent so far (real time plus sleeps that returned early)."""
        return time.monotonic() - self._start + self._credit

    def remaining(self) -> float:
        """Seconds left (negative once the budget is spent)."""
        return self.seconds - self.elapsed()

    def slept(self, *, asked: float, real: float) -> None:
        """Record a sleep of ``asked`` seconds that took ``real`` seconds of real time."""
        self._credit += max(0.0, asked - real)


@contextmanager
def expiring_at(expiry: float) -> Iterator[None]:
    """Clamp socket timeouts of the default transport to ``expiry`` (``time.monotonic``)."""
    token = _EXPIRY.set(expiry)
    try:
        yield
    finally:
        _EXPIRY.reset(token)


def time_left() -> float | None:
    """Seconds until the current attempt's expiry, or ``None`` outside an attempt."""
    expiry = _EXPIRY.get()
    return None if expiry is None else expiry - time.monotonic()


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("opskit wall-clock limit reached")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A network stream whose operations never block past the attempt's expiry."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)
        )
        return _Stream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's network backend with every timeout clamped to the attempt's expiry."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host,
            port,
            timeout=_clamp(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _Stream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, timeout=_clamp(timeout, httpcore.ConnectTimeout), socket_options=socket_options
        )
        return _Stream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport() -> httpx.HTTPTransport:
    """httpx's default transport, with socket timeouts clamped to the attempt's expiry.

    httpx does not take a network backend as an argument, so the pool's backend
    is wrapped in place; if a future httpx lays its pool out differently, the
    transport is returned unwrapped and the chunked body check still applies
    (``tests/connectors/test_deadlines.py`` fails loudly in that case).
    """
    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        if not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
    else:  # pragma: no cover - depends on the httpx version
        logger.debug("httpx transport has no network backend to wrap; body checks only")
    return transport
