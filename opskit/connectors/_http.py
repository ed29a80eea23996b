"""Shared HTTP plumbing of every connector.

One long-lived :class:`httpx.Client` per connector with an explicit
:class:`httpx.Timeout` and an injectable transport; a client-side token bucket;
bounded retries (tenacity) with exponential backoff and jitter that honour
``Retry-After`` and the vendors' reset headers; and one error-mapping boundary
that raises the most specific :mod:`opskit.errors` class ``from`` the cause with
the URL redacted.

Only idempotent reads are retried on 429/502/503/504 and transport errors;
writes are retried only on 429 (the server did not process them).
"""

from __future__ import annotations

import json as _json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx
import tenacity

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
    "DEFAULT_TIMEOUT_S",
    "RETRY_STATUSES",
    "BaseConnector",
    "parse_reset_header",
    "parse_retry_after",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
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
_REQUEST_ID_HEADERS = ("x-request-id", "x-arequestid", "atl-traceid", "x-dynatrace-request-id")


class _Retry(Exception):
    """Carries a retryable opskit error and the server's wait hint through tenacity."""

    def __init__(self, error: ConnectorError, wait: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


class BaseConnector:
    """HTTP plumbing shared by the vendor connectors (not used directly).

    Subclasses set :attr:`system` and :attr:`auth_hint` and call
    :meth:`_request`; they implement :meth:`_probe` for :meth:`check`.
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
        max_retries: int = 4,
        requests_per_second: float = 5.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep or time.sleep
        self._clock = clock or time.time
        self.max_retries = max_retries
        self.timeout = httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
        self._bucket = TokenBucket(rate=requests_per_second, clock=self._clock, sleep=self._sleep)
        self.requests_sent = 0
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Accept": "application/json", "User-Agent": "opskit", **headers},
            timeout=self.timeout,
            transport=transport,
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
        timeout: httpx.Timeout | None = None,
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
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(
                lambda e: (
                    isinstance(e, _Retry) and (idempotent or isinstance(e.error, RateLimitError))
                )
            ),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._send_once(method, url, params, json, timeout, count)
        except _Retry as final:
            raise final.error from final.__cause__
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.wait is not None:
            return max(MIN_RETRY_WAIT_S, exc.wait)
        backoff = tenacity.wait_exponential_jitter(
            initial=BACKOFF_INITIAL_S, max=BACKOFF_MAX_S, jitter=BACKOFF_JITTER_S
        )
        return max(MIN_RETRY_WAIT_S, backoff(state))

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
        timeout: httpx.Timeout | None,
        count: Callable[[Any], int] | None,
    ) -> Any:
        self._bucket.acquire()
        request = self._client.build_request(
            method, url, params=params, json=json, timeout=timeout or self.timeout
        )
        safe_url = self._redact(redact_url(request.url))
        path = request.url.path
        started = time.perf_counter()
        self.requests_sent += 1
        try:
            response = self._client.send(request)
        except httpx.TimeoutException as exc:
            self._log(method, path, "timeout", None, started)
            raise _Retry(
                UnavailableError(
                    f"{self.system}: {method} {safe_url} timed out ({type(exc).__name__})",
                    system=self.system,
                    url=safe_url,
                ),
                None,
            ) from exc
        except httpx.TransportError as exc:
            self._log(method, path, "network error", None, started)
            raise _Retry(
                UnavailableError(
                    f"{self.system}: {method} {safe_url} failed: {type(exc).__name__}: "
                    f"{self._redact(str(exc))[:200]}",
                    system=self.system,
                    url=safe_url,
                ),
                None,
            ) from exc
        except httpx.HTTPError as exc:  # e.g. a body that cannot be decoded
            self._log(method, path, "bad response", None, started)
            raise ResponseError(
                f"{self.system}: {method} {safe_url} returned an unreadable response: "
                f"{type(exc).__name__}",
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
        where = f"{self.system}: HTTP {status} from {method} {safe_url}"
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
                f"{self.system}: malformed response from {safe_url}: HTTP "
                f"{response.status_code}, content-type {ctype!r}, body starts: "
                f"{self._preview(response)!r}",
                system=self.system,
                url=safe_url,
                status_code=response.status_code,
            ) from exc
