"""Shared machinery of the fake vendor servers: recording, fault scripting, serving.

A fake is a callable ``httpx.Request -> httpx.Response``; use it through
``httpx.MockTransport(fake)`` or :func:`serve` (a real HTTP server on 127.0.0.1).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import httpx

__all__ = ["FakeService", "Fault", "Recorded", "Trickle", "TrickleStream", "serve", "unit"]


@dataclass(frozen=True)
class Trickle:
    """A scripted fault: the normal answer, sent ``chunk`` bytes every ``interval_s`` seconds.

    The body trickles both in-process (``httpx.MockTransport``) and through
    :func:`serve`; with ``headers=True``, :func:`serve` also trickles the status
    line and headers (a real socket is needed for that).
    """

    chunk: int = 8
    interval_s: float = 0.05
    headers: bool = False


class TrickleStream(httpx.SyncByteStream):
    """A response body that arrives slowly (see :class:`Trickle`)."""

    def __init__(self, content: bytes, trickle: Trickle) -> None:
        self.content = content
        self.trickle = trickle

    def __iter__(self) -> Iterator[bytes]:
        step = max(1, self.trickle.chunk)
        for i in range(0, len(self.content), step):
            if i:
                time.sleep(self.trickle.interval_s)
            yield self.content[i : i + step]


#: A scripted fault: an HTTP status (vendor-shaped body and headers), a named
#: fault (``"html"``, ``"html_200"``, ``"truncated"``, ``"empty"``, ``"timeout"``,
#: ``"reset"`` or a vendor-specific one), a :class:`Trickle`, a ready response, or
#: a callable that may return a response (``None`` = continue normally).
Fault = int | str | Trickle | httpx.Response | Callable[[httpx.Request], "httpx.Response | None"]

HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    "<h1>Bad Gateway</h1><p>The upstream server returned an invalid response.</p></body></html>"
)
HTML_LOGIN = (
    "<!DOCTYPE html><html><head><title>Log in</title></head><body><form action='/login'>"
    "<input name='username'/><input type='password' name='password'/></form></body></html>"
)


def unit(*parts: Any) -> float:
    """A deterministic pseudo-random number in [0, 1) from ``parts`` (fast, seedable)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


@dataclass
class Recorded:
    """One request as the fake saw it."""

    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any = None
    route: str = ""
    status: int = 0
    at: float = 0.0

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        return next((v for k, v in self.params if k == name), None)

    @property
    def param_names(self) -> set[str]:
        """Names of every query parameter sent."""
        return {k for k, _ in self.params}


@dataclass
class FakeService:
    """Base of the vendor fakes: records requests, plays scripted faults, checks auth."""

    seed: int = 7
    clock: Callable[[], float] = time.time
    requests: list[Recorded] = field(default_factory=list, init=False)
    _faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque), init=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # -- scripting ---------------------------------------------------------------------------
    def queue(self, route: str, *faults: Fault) -> Self:
        """Answer the next requests to ``route`` (or ``"*"``: any route) with ``faults``."""
        with self._lock:
            self._faults[route].extend(faults)
        return self

    def calls(self, route: str | None = None) -> list[Recorded]:
        """Recorded requests, optionally only those to ``route``."""
        return [r for r in self.requests if route is None or r.route == route]

    def cursor(self) -> str:
        """An opaque, unguessable cursor (base64 with ``=`` padding)."""
        with self._lock:
            return base64.b64encode(self._rng.randbytes(13)).decode()

    # -- dispatch ----------------------------------------------------------------------------
    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        try:
            body = json.loads(request.content) if request.content else None
        except ValueError:
            body = request.content.decode("utf-8", errors="replace")
        route = self.route_of(request)
        rec = Recorded(
            method=request.method,
            path=request.url.path,
            params=list(request.url.params.multi_items()),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            route=route,
            at=self.clock(),
        )
        with self._lock:
            self.requests.append(rec)
            queue = self._faults.get(route) or self._faults.get("*")
            fault = queue.popleft() if queue else None
        trickle = fault if isinstance(fault, Trickle) else None
        response = self._fault(fault, request, route) if fault is not None else None
        if response is None:
            response = self.authenticate(request) or self.handle(route, request, body)
        rec.status = response.status_code
        if trickle is not None:
            content = response.read()
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=TrickleStream(content, trickle),
            )
        return response

    def _fault(self, fault: Fault, request: httpx.Request, route: str) -> httpx.Response | None:
        if isinstance(fault, Trickle):
            return None  # the normal answer, sent slowly by __call__
        if isinstance(fault, httpx.Response):
            return fault
        if callable(fault):
            return fault(request)
        if isinstance(fault, int):
            return self.error(fault, request)
        if fault == "timeout":
            raise httpx.ReadTimeout("fake: read timed out", request=request)
        if fault == "reset":
            raise httpx.RemoteProtocolError("fake: connection reset by peer", request=request)
        if fault == "html":
            return httpx.Response(502, text=HTML_ERROR, headers={"Content-Type": "text/html"})
        if fault == "html_200":
            return httpx.Response(200, text=HTML_LOGIN, headers={"Content-Type": "text/html"})
        if fault == "truncated":
            return httpx.Response(
                200,
                content=b'{"data": {"items": [1, 2',
                headers={"Content-Type": "application/json"},
            )
        if fault == "empty":
            return httpx.Response(200, content=b"", headers={"Content-Type": "application/json"})
        return self.special(fault, request, route)

    # -- vendor hooks ------------------------------------------------------------------------
    def route_of(self, request: httpx.Request) -> str:
        """A short route name for recording and scripting."""
        return request.url.path

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        """``None`` when the credentials are valid, else the vendor's 401/403 response."""
        return None

    def handle(self, route: str, request: httpx.Request, body: Any) -> httpx.Response:
        """The vendor's normal answer."""
        return httpx.Response(404, json={"message": "not found"})

    def error(self, status: int, request: httpx.Request) -> httpx.Response:
        """A vendor-shaped error response for ``status``."""
        if status in (502, 503, 504):
            return httpx.Response(status, text=HTML_ERROR, headers={"Content-Type": "text/html"})
        return httpx.Response(status, json={"message": f"fake error {status}"})

    def special(self, fault: str, request: httpx.Request, route: str) -> httpx.Response | None:
        """Vendor-specific named faults."""
        raise ValueError(f"unknown fault {fault!r} for {type(self).__name__}")


@contextmanager
def serve(handler: Callable[[httpx.Request], httpx.Response]) -> Iterator[str]:
    """Serve ``handler`` on a real HTTP server bound to 127.0.0.1 (ephemeral port).

    Yields the base URL (``http://127.0.0.1:PORT``). Handler exceptions that are
    ``httpx.TransportError`` (scripted ``"timeout"``/``"reset"``) drop the
    connection without a response; a :class:`Trickle` answer is written a few
    bytes at a time.
    """

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            content = self.rfile.read(length) if length else b""
            port = getattr(self.server, "server_port", 0)
            request = httpx.Request(
                self.command,
                f"http://127.0.0.1:{port}{self.path}",
                headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"],
                content=content,
            )
            try:
                response = handler(request)
            except httpx.TransportError:
                self.close_connection = True
                return
            if isinstance(response.stream, TrickleStream):
                self._trickle(response, response.stream)
                return
            data = response.read()
            self.send_response(response.status_code)
            for key, value in response.headers.multi_items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _trickle(self, response: httpx.Response, stream: TrickleStream) -> None:
            lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
            lines += [
                f"{k}: {v}"
                for k, v in response.headers.multi_items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection")
            ]
            lines.append(f"Content-Length: {len(stream.content)}")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            parts = (
                TrickleStream(head, stream.trickle) if stream.trickle.headers else [head],
                stream,
            )
            try:
                for chunk in itertools.chain(*parts):
                    self.wfile.write(chunk)
            except OSError:  # the client gave up (deadline) and closed the socket
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
