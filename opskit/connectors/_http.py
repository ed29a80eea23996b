"""Shared HTTP plumbing of every connector.

One long-lived :class:`httpx.Client` per connector with an injectable transport;
a client-side token bucket; bounded retries (tenacity) with exponential backoff
and jitter that honour ``Retry-After`` and the vendors' reset headers; wall-clock
limits per request (``timeout_s``) and per pull (``deadline_s``, see
:mod:`opskit.connectors._deadline`); and one error-mapping boundary that raises
the most specific :mod:`opskit.errors` class ``from`` the cause with the URL
redacted.

Only idempotent reads are retried on 429/502/503/504 and transport errors;
writes are retried only on 429 (the server did not process them). A retry whose
wait would pass the pull's deadline is not slept through.
"""

from __future__ import annotations

import functools
import json as _json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, ClassVar, Concatenate, ParamSpec, Self, TypeVar
from urllib.parse import urlsplit

import httpx
import tenacity

from opskit._logging import quiet_http_loggers
from opskit.connectors._deadline import Budget, deadline_transport, expiring_at
from opskit.connectors._paging import TokenBucket
from opskit.connectors._redact import redact_text, redact_url
from opskit.connectors._responses import parse_reset_header, parse_retry_after, vendor_message
from opskit.errors import (
    AuthError,
    ConnectorError,
    RateLimitError,
    ResponseError,
    UnavailableError,
)

__all__ = [
    "DEFAULT_DEADLINE_S",
    "DEFAULT_TIMEOUT_S",
    "RETRY_STATUSES",
    "BaseConnector",
    "parse_reset_header",
    "parse_retry_after",
    "pull",
    "short_url",
]

logger = logging.getLogger(__name__)

#: Wall-clock limit of one HTTP request: connect, send, headers and the whole body.
DEFAULT_TIMEOUT_S = 10.0
#: Wall-clock limit of one pull: every page, retry and backoff of one public call.
DEFAULT_DEADLINE_S = 300.0
CONNECT_TIMEOUT_S = 10.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Backoff when the server gives no hint: exponential from 1 s, capped at 60 s, plus jitter.
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 60.0
BACKOFF_JITTER_S = 1.0
#: Waits the server asks for beyond this are not slept through: we raise instead.
MAX_RETRY_WAIT_S = 300.0
#: Never retry faster than this, even if the server says ``Retry-After: 0``.
MIN_RETRY_WAIT_S = 0.5
BODY_PREVIEW_CHARS = 500
#: URLs in messages are cut to this many characters (the full redacted URL is ``error.url``).
MESSAGE_URL_CHARS = 100
#: Slack when telling "the deadline passed" from "a socket operation timed out".
_EPS_S = 0.05
_REQUEST_ID_HEADERS = ("x-request-id", "x-arequestid", "atl-traceid", "x-dynatrace-request-id")

C = TypeVar("C", bound="BaseConnector")
P = ParamSpec("P")
R = TypeVar("R")


def short_url(url: str) -> str:
    """``url`` for a message: no query string, at most ``MESSAGE_URL_CHARS`` characters.

    >>> short_url("https://api.example.invalid/insights/3.0/metrics?metric=plays&days=1")
    'https://api.example.invalid/insights/3.0/metrics?…'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url[:MESSAGE_URL_CHARS]
    text = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else parts.path
    if len(text) > MESSAGE_URL_CHARS:
        text = text[: MESSAGE_URL_CHARS - 1] + "…"
    return text + ("?…" if parts.query else "")


def pull(method: Callable[Concatenate[C, P], R]) -> Callable[Concatenate[C, P], R]:
    """Run a public connector method as one pull: all its requests share ``deadline_s``."""

    @functools.wraps(method)
    def wrapper(self: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._pull_budget():
            return method(self, *args, **kwargs)

    return wrapper


class _Retry(Exception):
    """Carries a retryable opskit error and the server's wait hint through tenacity."""

    def __init__(self, error: ConnectorError, wait: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


class _OutOfTime(Exception):
    """The next retry would pass the pull's deadline (raised from tenacity's wait)."""

    def __init__(self, error: ConnectorError, cause: BaseException | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.cause = cause


class BaseConnector:
    """HTTP plumbing shared by the vendor connectors (not used directly).

    Subclasses set :attr:`system` and :attr:`auth_hint`, call :meth:`_request`
    and mark their public methods with :func:`pull`; they implement
    :meth:`_probe` for :meth:`check`.

    Parameters
    ----------
    timeout_s
        Wall-clock limit of one HTTP request (connect, send, status line,
        headers and the whole body), enforced however slowly the server sends.
    deadline_s
        Wall-clock limit of one pull: every page, retry and backoff wait of one
        public call. A retry that would not fit is not attempted.
    """

    system: ClassVar[str] = ""
    #: Which setting to fix when the credentials are rejected.
    auth_hint: ClassVar[str] = ""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        secrets: Iterable[str],
        timeout_s: float = DEFAULT_TIMEOUT_S,
        deadline_s: float = DEFAULT_DEADLINE_S,
        max_retries: int = 4,
        requests_per_second: float = 5.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        if deadline_s <= 0:
            raise ValueError("deadline_s must be > 0")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        quiet_http_loggers()
        self._secrets = tuple(s for s in secrets if s)
        self._sleep_fn = sleep or time.sleep
        self._clock = clock or time.time
        self.max_retries = max_retries
        self.timeout_s = float(timeout_s)
        self.deadline_s = float(deadline_s)
        self.timeout = httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
        self._local = threading.local()
        self._bucket = TokenBucket(rate=requests_per_second, clock=self._clock, sleep=self._sleep)
        self.requests_sent = 0
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Accept": "application/json", "User-Agent": "opskit", **headers},
            timeout=self.timeout,
            transport=transport if transport is not None else deadline_transport(),
            follow_redirects=False,
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the underlying HTTP client and its connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={redact_url(self._client.base_url)!r})"

    @property
    def base_url(self) -> str:
        """The (redacted) base URL requests go to."""
        return redact_url(self._client.base_url)

    # -- doctor ------------------------------------------------------------------------------
    @pull
    def check(self) -> dict[str, Any]:
        """Cheap auth + reachability + permission probe for ``opskit doctor``.

        Returns
        -------
        dict
            ``{"ok": bool, "detail": str}``; the detail never contains secrets.
        """
        try:
            detail = self._probe()
        except ConnectorError as exc:
            return {"ok": False, "detail": self._redact(str(exc))}
        return {"ok": True, "detail": self._redact(detail)}

    def _probe(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- time --------------------------------------------------------------------------------
    def _setting(self, name: str) -> str:
        return f"{name}, OPSKIT_{self.system.upper()}__{name.upper()}"

    @contextmanager
    def _pull_budget(self) -> Iterator[Budget]:
        """The current pull's budget; a new one (``deadline_s``) when none is running."""
        current: Budget | None = getattr(self._local, "budget", None)
        if current is not None:
            yield current
            return
        budget = Budget(self.deadline_s)
        self._local.budget = budget
        try:
            yield budget
        finally:
            self._local.budget = None

    def _time_left(self) -> float:
        """Seconds left in the current pull (``deadline_s`` outside one)."""
        current: Budget | None = getattr(self._local, "budget", None)
        return self.deadline_s if current is None else current.remaining()

    def _sleep(self, seconds: float) -> None:
        """Sleep with the injected ``sleep``, spending the pull's budget either way."""
        started = time.monotonic()
        self._sleep_fn(seconds)
        current: Budget | None = getattr(self._local, "budget", None)
        if current is not None:
            current.slept(asked=seconds, real=time.monotonic() - started)

    def _deadline_error(
        self, what: str, budget: Budget, *, last: ConnectorError | None = None, **kwargs: Any
    ) -> UnavailableError:
        state = "passed" if budget.remaining() <= _EPS_S else "leaves no time for it"
        cause = f"; last error: {last}" if last is not None else ""
        return UnavailableError(
            f"{self.system}: {what}: the {self.deadline_s:g} s deadline for one pull "
            f"({self._setting('deadline_s')}) {state} after {budget.elapsed():.1f} s{cause}",
            system=self.system,
            **kwargs,
        )

    # -- requests ----------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        idempotent: bool | None = None,
        count: Callable[[Any], int] | None = None,
        max_retries: int | None = None,
    ) -> Any:
        """Send one logical request (with bounded retries) and return the parsed JSON body.

        Parameters
        ----------
        idempotent
            Whether a retry is safe after a 5xx/transport error; default: GET/HEAD only.
            Search POSTs and GraphQL queries pass ``True``.
        count
            Counts the items in a parsed body for the log line.
        """
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS")
        retries = self.max_retries if max_retries is None else max_retries
        with self._pull_budget() as budget:
            retrying = tenacity.Retrying(
                stop=tenacity.stop_after_attempt(retries + 1),
                wait=lambda state: self._wait_within(state, budget, retries),
                retry=tenacity.retry_if_exception(
                    lambda e: (
                        isinstance(e, _Retry)
                        and (idempotent or isinstance(e.error, RateLimitError))
                    )
                ),
                sleep=self._sleep,
                before_sleep=self._log_retry,
                reraise=True,
            )
            try:
                for attempt in retrying:
                    with attempt:
                        return self._send_once(method, url, params, json, count, budget)
            except _Retry as final:
                raise final.error from final.__cause__
            except _OutOfTime as late:
                raise late.error from late.cause
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.wait is not None:
            return max(MIN_RETRY_WAIT_S, exc.wait)
        backoff = tenacity.wait_exponential_jitter(
            initial=BACKOFF_INITIAL_S, max=BACKOFF_MAX_S, jitter=BACKOFF_JITTER_S
        )
        return max(MIN_RETRY_WAIT_S, backoff(state))

    def _wait_within(self, state: tenacity.RetryCallState, budget: Budget, retries: int) -> float:
        """The backoff before the next attempt; ``_OutOfTime`` if it would pass the deadline."""
        wait = self._wait(state)
        if state.attempt_number > retries:  # no next attempt: tenacity's stop ends it
            return wait
        if wait < budget.remaining():
            return wait
        exc = state.outcome.exception() if state.outcome else None
        last = exc.error if isinstance(exc, _Retry) else None
        error = self._deadline_error(
            f"not retrying (the next attempt would start in {wait:.1f} s)",
            budget,
            last=last,
            url=getattr(last, "url", None),
            status_code=getattr(last, "status_code", None),
        )
        raise _OutOfTime(error, last)

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        status = exc.error.status_code if isinstance(exc, _Retry) else None
        logger.info(
            "%s: retry %d/%d in %.1f s after %s",
            self.system,
            state.attempt_number,
            self.max_retries,
            wait,
            status or type(getattr(exc, "error", exc)).__name__,
        )

    def _send_once(
        self,
        method: str,
        url: str,
        params: Any,
        json: Any,
        count: Callable[[Any], int] | None,
        budget: Budget,
    ) -> Any:
        self._bucket.acquire()
        request = self._client.build_request(method, url, params=params, json=json)
        safe_url = self._redact(redact_url(request.url))
        where = f"{method} {short_url(safe_url)}"
        if budget.remaining() <= 0:
            raise self._deadline_error(f"not sending {where}", budget, url=safe_url)
        limit = min(self.timeout_s, budget.remaining())
        request.extensions["timeout"] = httpx.Timeout(
            limit, connect=min(CONNECT_TIMEOUT_S, limit)
        ).as_dict()
        expiry = time.monotonic() + limit
        path = request.url.path
        started = time.perf_counter()
        self.requests_sent += 1
        try:
            with expiring_at(expiry):
                response = self._receive(request, expiry)
        except httpx.TimeoutException as exc:
            self._log(method, path, "timeout", None, started)
            if budget.remaining() <= _EPS_S:
                raise self._deadline_error(f"{where} was cut off", budget, url=safe_url) from exc
            if time.monotonic() >= expiry - _EPS_S:
                message = (
                    f"{self.system}: {where} took longer than {self.timeout_s:g} s "
                    f"({self._setting('timeout_s')}: wall-clock limit per request)"
                )
            else:
                message = f"{self.system}: {where} timed out ({type(exc).__name__})"
            raise _Retry(UnavailableError(message, system=self.system, url=safe_url), None) from exc
        except httpx.TransportError as exc:
            self._log(method, path, "network error", None, started)
            raise _Retry(
                UnavailableError(
                    f"{self.system}: {type(exc).__name__}: {self._redact(str(exc))[:200]} "
                    f"({where})",
                    system=self.system,
                    url=safe_url,
                ),
                None,
            ) from exc
        except httpx.HTTPError as exc:  # e.g. a body that cannot be decoded
            self._log(method, path, "bad response", None, started)
            raise ResponseError(
                f"{self.system}: {where} returned an unreadable response: {type(exc).__name__}",
                system=self.system,
                url=safe_url,
            ) from exc
        try:
            payload = self._handle(response, method, safe_url)
        except (ConnectorError, _Retry):
            self._log(method, path, response.status_code, None, started)
            raise
        items = count(payload) if count is not None else None
        self._log(method, path, response.status_code, items, started)
        return payload

    def _receive(self, request: httpx.Request, expiry: float) -> httpx.Response:
        """Send ``request`` and read the body in chunks, never past ``expiry``."""
        response = self._client.send(request, stream=True)
        if response.is_stream_consumed:  # preloaded by an in-process transport: in memory
            return response
        try:
            chunks = []
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if time.monotonic() >= expiry:
                    raise httpx.ReadTimeout("wall-clock limit reached in the body", request=request)
            if time.monotonic() >= expiry:
                raise httpx.ReadTimeout("wall-clock limit reached", request=request)
        finally:
            response.close()
        # Decoded here (Content-Encoding), inside the caller's error mapping.
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=b"".join(chunks),
            request=request,
        )

    def _log(
        self, method: str, path: str, status: object, items: int | None, started: float
    ) -> None:
        ms = (time.perf_counter() - started) * 1000
        logger.info(
            "%s %s %s -> %s (%s items, %.0f ms)",
            self.system,
            method,
            self._redact(path),
            status,
            "-" if items is None else items,
            ms,
        )

    def _handle(self, response: httpx.Response, method: str, safe_url: str) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or (not response.content and method.upper() in ("PUT", "DELETE")):
                return None
            return self._parse_json(response, safe_url)
        payload = self._try_json(response)
        message = self._redact(vendor_message(payload)) if payload is not None else ""
        if not message:
            message = self._preview(response)
        request_id = next(
            (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
        )
        where = f"{self.system}: HTTP {status} from {method} {short_url(safe_url)}"
        detail = f"{where}: {message}" + (f" (request id {request_id})" if request_id else "")
        kwargs: dict[str, Any] = {"system": self.system, "url": safe_url, "status_code": status}
        if status in (401, 403):
            raise AuthError(f"{detail}. {self._auth_advice(response, status)}".strip(), **kwargs)
        if status in RETRY_STATUSES:
            now = self._clock()
            hint = parse_retry_after(response.headers.get("Retry-After"), now=now)
            if hint is None:
                hint = parse_reset_header(response.headers.get("X-RateLimit-Reset"), now=now)
            if status == 429:
                error: ConnectorError = RateLimitError(
                    f"{detail}; rate limited", retry_after=hint, **kwargs
                )
            else:
                error = UnavailableError(f"{detail}; service unavailable", **kwargs)
            if hint is not None and hint > MAX_RETRY_WAIT_S:
                raise error  # do not block a notebook for minutes; let the caller decide
            raise _Retry(error, hint)
        if status >= 500:
            raise UnavailableError(f"{detail}; server error", **kwargs)
        raise ConnectorError(f"{detail}; request rejected", **kwargs)

    def _auth_advice(self, response: httpx.Response, status: int) -> str:
        verb = "rejected" if status == 401 else "lack permission for this request"
        hint = f"Credentials {verb}: check {self.auth_hint}" if self.auth_hint else ""
        return hint + "."

    def _try_json(self, response: httpx.Response) -> Any:
        try:
            return _json.loads(response.content) if response.content else None
        except (ValueError, UnicodeDecodeError):
            return None

    def _preview(self, response: httpx.Response) -> str:
        text = response.content[:BODY_PREVIEW_CHARS].decode("utf-8", errors="replace")
        return self._redact(" ".join(text.split())) or "(empty body)"

    def _parse_json(self, response: httpx.Response, safe_url: str) -> Any:
        try:
            if not response.content:
                raise ValueError("empty body")
            return _json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            ctype = response.headers.get("content-type", "unknown")
            raise ResponseError(
                f"{self.system}: malformed response from {short_url(safe_url)}: HTTP "
                f"{response.status_code}, content-type {ctype!r}, body starts: "
                f"{self._preview(response)!r}",
                system=self.system,
                url=safe_url,
                status_code=response.status_code,
            ) from exc
