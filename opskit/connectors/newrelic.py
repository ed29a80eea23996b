"""New Relic NerdGraph connector: NRQL over GraphQL -> ``ApmHealth`` frames.

NRQL text is always built from quoted literals (:func:`nrql_quote`), never by
inserting user text. Pulls longer than 366 TIMESERIES buckets are split into
time windows. GraphQL ``errors[]`` are inspected on every HTTP 200: a
``TIMEOUT`` error class is retried with a larger NRQL timeout, anything else is
fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
import pandas as pd
from pydantic import SecretStr

from opskit.connectors._frames import BucketLike, TimeLike, live_frame, to_utc
from opskit.connectors._http import DEFAULT_DEADLINE_S, BaseConnector, pull
from opskit.connectors._paging import progress_iter
from opskit.connectors._redact import reveal
from opskit.connectors.nrql import (
    bucket_clause,
    facet_value,
    in_list,
    nrql_identifier,
    nrql_number,
    nrql_quote,
)
from opskit.errors import ResponseError, UnavailableError
from opskit.schemas import ApmHealth

__all__ = [
    "EU_ENDPOINT",
    "US_ENDPOINT",
    "NewRelicConnector",
    "nrql_identifier",
    "nrql_quote",
    "nrql_timeout_cap",
]

logger = logging.getLogger(__name__)

US_ENDPOINT = "https://api.newrelic.com/graphql"
EU_ENDPOINT = "https://api.eu.newrelic.com/graphql"
#: TIMESERIES returns at most this many buckets per query.
MAX_BUCKETS = 366
#: Default wall-clock limit of one NerdGraph request (NRQL gets this minus a margin).
NEWRELIC_TIMEOUT_S = 75.0
#: First server-side NRQL timeout, when ``timeout_s`` leaves room for it.
NRQL_TIMEOUT_S = 60
MAX_NRQL_TIMEOUT_S = 600
TIMEOUT_RETRIES = 2
COLUMNS = ["timestamp", "system", "entity", "metric", "value"]

NRQL_QUERY = """query($accountId: Int!, $nrql: Nrql!, $timeout: Seconds) {
  actor { account(id: $accountId) {
    nrql(query: $nrql, timeout: $timeout) { results metadata { facets eventTypes } }
  } }
}"""
PROBE_QUERY = (
    """query($accountId: Int!) { actor { user { id } account(id: $accountId) { id name } } }"""
)


class NewRelicConnector(BaseConnector):
    """Query New Relic through NerdGraph (NRQL over GraphQL).

    Parameters
    ----------
    api_key
        A *User* key (``NRAK-...``); sent as the ``API-Key`` header only.
    account_id
        The account the NRQL runs against.
    region
        ``"us"`` or ``"eu"`` (picks the NerdGraph endpoint).
    endpoint
        Override the NerdGraph URL (e.g. a loopback fake).
    nrql_timeout_s
        First server-side NRQL timeout (NerdGraph's default of 5 s is too short);
        default 60 s. It is always capped by :func:`nrql_timeout_cap`: ``timeout_s``
        (and the time left in the pull) minus a margin for NerdGraph itself.
    timeout_s
        Wall-clock limit of one NerdGraph request (default 75 s, so NRQL gets 70 s).
    deadline_s, max_retries, requests_per_second
        Wall-clock limit of one pull, bounded retries and client-side rate limit.
    progress
        tqdm bar on multi-window pulls (``None``: in notebooks/TTYs only).
    sleep, clock
        Injectable for tests (no real waiting).
    transport
        An ``httpx`` transport, e.g. ``httpx.MockTransport(fakes.newrelic())``.

    Examples
    --------
    >>> import httpx
    >>> from opskit.connectors import fakes
    >>> with NewRelicConnector(api_key=fakes.NEWRELIC_KEY, account_id=fakes.NEWRELIC_ACCOUNT,
    ...                        transport=httpx.MockTransport(fakes.newrelic())) as nr:
    ...     df = nr.fetch_apm(["playback-api"], start="2024-05-31T00:00Z",
    ...                       end="2024-05-31T01:00Z", bucket="5min")
    >>> sorted(df["metric"].unique())[:2]
    ['apdex', 'error_rate']
    """

    system = "newrelic"
    auth_hint = "OPSKIT_NEWRELIC__API_KEY (it must be a User key, NRAK-...)"

    def __init__(
        self,
        *,
        api_key: str | SecretStr,
        account_id: int,
        region: str = "us",
        endpoint: str | None = None,
        nrql_timeout_s: int | None = None,
        timeout_s: float = NEWRELIC_TIMEOUT_S,
        deadline_s: float = DEFAULT_DEADLINE_S,
        max_retries: int = 4,
        requests_per_second: float = 5.0,
        progress: bool | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        key = reveal(api_key)
        if region not in ("us", "eu"):
            raise ValueError("region must be 'us' or 'eu'")
        url = endpoint or (EU_ENDPOINT if region == "eu" else US_ENDPOINT)
        parts = urlsplit(url)
        self._path = parts.path or "/graphql"
        self.account_id = int(account_id)
        cap = nrql_timeout_cap(timeout_s)
        if nrql_timeout_s is not None and not 1 <= nrql_timeout_s <= cap:
            raise ValueError(
                f"nrql_timeout_s must be between 1 and {cap} s: timeout_s={timeout_s:g} "
                "limits the whole NerdGraph request"
            )
        self.nrql_timeout_s = int(nrql_timeout_s or min(NRQL_TIMEOUT_S, cap))
        self.progress = progress
        super().__init__(
            base_url=f"{parts.scheme}://{parts.netloc}",
            headers={"API-Key": key, "Content-Type": "application/json"},
            secrets=[key],
            timeout_s=timeout_s,
            deadline_s=deadline_s,
            max_retries=max_retries,
            requests_per_second=requests_per_second,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"NewRelicConnector(base_url={self.base_url!r}, account_id={self.account_id})"

    # -- raw NRQL ----------------------------------------------------------------------------
    @pull
    def nrql(self, query: str, *, timeout_s: int | None = None) -> list[dict[str, Any]]:
        """Run one NRQL query (trusted text) and return its ``results`` rows.

        The server-side NRQL timeout starts at ``timeout_s`` (default: the
        connector's ``nrql_timeout_s``) and never exceeds what the request's
        wall-clock limit leaves (:func:`nrql_timeout_cap`). A ``TIMEOUT`` GraphQL
        error is retried with a doubled NRQL timeout, up to that cap, at most twice.

        Raises
        ------
        AuthError, RateLimitError, UnavailableError, ResponseError
            See :mod:`opskit.errors`; GraphQL errors other than ``TIMEOUT`` are
            :class:`ResponseError`.
        """
        cap = self._nrql_cap()
        timeout = min(int(timeout_s or self.nrql_timeout_s), cap)
        for attempt in range(TIMEOUT_RETRIES + 1):
            payload = self._graphql(
                NRQL_QUERY, {"accountId": self.account_id, "nrql": query, "timeout": timeout}
            )
            errors = payload.get("errors") or []
            classes = [
                (e.get("extensions") or {}).get("errorClass") for e in errors if isinstance(e, dict)
            ]
            if errors and all(c == "TIMEOUT" for c in classes):
                cap = self._nrql_cap()
                if attempt == TIMEOUT_RETRIES or timeout >= cap:
                    break
                logger.info("newrelic: NRQL timed out after %d s; retrying with more", timeout)
                timeout = min(timeout * 2, cap)
                continue
            if errors:
                raise ResponseError(
                    "newrelic: NerdGraph returned errors: "
                    + self._redact("; ".join(str(e.get("message", e)) for e in errors)[:400]),
                    system=self.system,
                    url=self.base_url + self._path,
                    status_code=200,
                )
            return self._results(payload)
        raise UnavailableError(
            f"newrelic: NRQL query timed out even with a {timeout} s timeout; narrow the "
            "time range or the facets, or raise OPSKIT_NEWRELIC__TIMEOUT_S (now "
            f"{self.timeout_s:g} s; NRQL gets it minus a margin)",
            system=self.system,
            url=self.base_url + self._path,
            status_code=200,
        )

    def _nrql_cap(self) -> int:
        """The largest NRQL timeout the request limit and the pull's time left allow."""
        return nrql_timeout_cap(min(self.timeout_s, max(self._time_left(), 1.0)))

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        payload = self._request(
            "POST",
            self._path,
            json={"query": query, "variables": variables},
            idempotent=True,
            count=_count_results,
        )
        if not isinstance(payload, dict):
            raise ResponseError(
                "newrelic: NerdGraph answered with a non-object JSON body",
                system=self.system,
                url=self.base_url + self._path,
            )
        return payload

    def _results(self, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        try:
            results = payload["data"]["actor"]["account"]["nrql"]["results"]
        except (KeyError, TypeError):
            results = None
        if not isinstance(results, list):
            raise ResponseError(
                "newrelic: NerdGraph response has no data.actor.account.nrql.results list",
                system=self.system,
                url=self.base_url + self._path,
                status_code=200,
            )
        return [r for r in results if isinstance(r, dict)]

    # -- shaped pulls ------------------------------------------------------------------------
    def _windows(
        self, start: TimeLike, end: TimeLike, bucket: BucketLike
    ) -> tuple[list[tuple[pd.Timestamp, pd.Timestamp]], pd.Timedelta]:
        t0, t1, step = to_utc(start), to_utc(end), pd.Timedelta(bucket)
        if t1 <= t0:
            raise ValueError("end must be after start")
        if step <= pd.Timedelta(0):
            raise ValueError("bucket must be positive")
        span = step * MAX_BUCKETS
        out = []
        while t0 < t1:
            out.append((t0, min(t0 + span, t1)))
            t0 += span
        return out, step

    def _timeseries(
        self,
        select: str,
        where: str,
        facet: str,
        limit: str,
        start: TimeLike,
        end: TimeLike,
        bucket: BucketLike,
        metrics: Mapping[str, Callable[[Any], float]],
    ) -> pd.DataFrame:
        windows, step = self._windows(start, end, bucket)
        cols: dict[str, list[Any]] = {"timestamp": [], "entity": [], "metric": [], "value": []}
        for w0, w1 in progress_iter(windows, enabled=self.progress, desc="newrelic windows"):
            nrql = (
                f"{select}{where} FACET {facet} SINCE {int(w0.timestamp() * 1000)} "
                f"UNTIL {int(w1.timestamp() * 1000)} TIMESERIES {bucket_clause(step)} "
                f"LIMIT {limit}"
            )
            for r in self.nrql(nrql):
                begin = r.get("beginTimeSeconds")
                if not isinstance(begin, int | float):
                    continue
                entity = facet_value(r, facet.strip("`"))
                for metric, convert in metrics.items():
                    cols["timestamp"].append(int(begin))
                    cols["entity"].append(entity)
                    cols["metric"].append(metric)
                    cols["value"].append(convert(r))
        frame = pd.DataFrame(cols)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"].astype("int64"), unit="s", utc=True)
        frame.insert(1, "system", self.system)
        frame = frame.drop_duplicates(["timestamp", "entity", "metric"], keep="last")
        frame = frame.sort_values(["entity", "metric", "timestamp"], kind="stable")
        return live_frame(
            frame.reset_index(drop=True),
            columns=COLUMNS,
            schema=ApmHealth,
            system=self.system,
            clock=self._clock,
            detail=f"NerdGraph account {self.account_id}",
        )

    @pull
    def fetch_apm(
        self,
        services: Sequence[str] | None = None,
        *,
        start: TimeLike,
        end: TimeLike,
        bucket: BucketLike = "5min",
        apdex_t: float = 0.5,
    ) -> pd.DataFrame:
        """Throughput, latency p50/p95, error rate and apdex per service and bucket.

        Parameters
        ----------
        services
            ``appName`` values (quoted safely; any text is allowed); ``None`` or
            empty: every service the account reports, in one faceted query.
        start, end
            UTC time range (``end`` exclusive); split into windows of 366 buckets.
        bucket
            TIMESERIES bucket, e.g. ``"1min"``, ``"5min"``.
        apdex_t
            Apdex threshold T in seconds.

        Returns
        -------
        pandas.DataFrame
            :class:`opskit.schemas.ApmHealth` rows; metrics ``throughput_rpm``,
            ``latency_p50_ms``, ``latency_p95_ms``, ``error_rate`` (fraction), ``apdex``.
        """
        names = _names(services, "services") if services else []
        select = (
            "SELECT rate(count(*), 1 minute) AS 'throughput_rpm', "
            "percentile(duration, 50) AS 'p50', percentile(duration, 95) AS 'p95', "
            "percentage(count(*), WHERE error IS true) AS 'error_pct', "
            f"apdex(duration, t: {float(apdex_t)!r}) AS 'apdex' FROM Transaction"
        )
        metrics: dict[str, Callable[[Any], float]] = {
            "throughput_rpm": lambda r: nrql_number(r.get("throughput_rpm")),
            "latency_p50_ms": lambda r: nrql_number(r.get("p50")) * 1000.0,
            "latency_p95_ms": lambda r: nrql_number(r.get("p95")) * 1000.0,
            "error_rate": lambda r: nrql_number(r.get("error_pct")) / 100.0,
            "apdex": lambda r: nrql_number(r.get("apdex")),
        }
        where = f" WHERE {in_list('appName', names)}" if names else ""
        limit = str(len(names)) if names else "MAX"
        return self._timeseries(select, where, "appName", limit, start, end, bucket, metrics)

    @pull
    def fetch_host_metrics(
        self,
        hosts: Sequence[str] | None = None,
        *,
        start: TimeLike,
        end: TimeLike,
        bucket: BucketLike = "5min",
    ) -> pd.DataFrame:
        """Infrastructure CPU and memory (percent) per host from ``SystemSample``.

        Returns
        -------
        pandas.DataFrame
            :class:`opskit.schemas.ApmHealth` rows, metrics ``cpu_pct`` and ``mem_pct``.
        """
        where = f" WHERE {in_list('hostname', _names(hosts, 'hosts'))}" if hosts else ""
        select = (
            "SELECT average(cpuPercent) AS 'cpu_pct', "
            "average(memoryUsedPercent) AS 'mem_pct' FROM SystemSample"
        )
        metrics: dict[str, Callable[[Any], float]] = {
            "cpu_pct": lambda r: nrql_number(r.get("cpu_pct")),
            "mem_pct": lambda r: nrql_number(r.get("mem_pct")),
        }
        return self._timeseries(select, where, "hostname", "MAX", start, end, bucket, metrics)

    @pull
    def fetch_errors(
        self,
        services: Sequence[str],
        *,
        start: TimeLike,
        end: TimeLike,
        bucket: BucketLike = "5min",
    ) -> pd.DataFrame:
        """``TransactionError`` event counts per service and bucket.

        Returns
        -------
        pandas.DataFrame
            :class:`opskit.schemas.ApmHealth` rows with metric ``error_count``.
        """
        names = _names(services, "services")
        where = f" WHERE {in_list('appName', names)}"
        select = "SELECT count(*) AS 'error_count' FROM TransactionError"
        metrics: dict[str, Callable[[Any], float]] = {
            "error_count": lambda r: nrql_number(r.get("error_count")),
        }
        return self._timeseries(
            select, where, "appName", str(len(names)), start, end, bucket, metrics
        )

    def _probe(self) -> str:
        payload = self._graphql(PROBE_QUERY, {"accountId": self.account_id})
        errors = payload.get("errors") or []
        account = ((payload.get("data") or {}).get("actor") or {}).get("account")
        if errors or not account:
            msg = "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))
            raise ResponseError(
                f"newrelic: key accepted but account {self.account_id} is not readable: {msg}",
                system=self.system,
                url=self.base_url + self._path,
                status_code=200,
            )
        return f"NerdGraph reachable; account {self.account_id} readable"


def nrql_timeout_cap(request_s: float) -> int:
    """The server-side NRQL timeout (s) that fits in a request of ``request_s`` seconds.

    NerdGraph needs a few seconds beyond the query itself: the margin is a fifth
    of the request, between 1 and 5 s. The result is between 1 and 600 s.

    >>> nrql_timeout_cap(75), nrql_timeout_cap(10), nrql_timeout_cap(2)
    (70, 8, 1)
    """
    margin = min(5.0, max(1.0, 0.2 * request_s))
    return max(1, min(MAX_NRQL_TIMEOUT_S, int(request_s - margin)))


def _names(values: Sequence[str] | None, what: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    names = list(dict.fromkeys(values or []))
    if not names:
        raise ValueError(f"give at least one name in {what}")
    for n in names:
        nrql_quote(n)  # validates type and characters early
    return names


def _count_results(payload: Any) -> int:
    try:
        return len(payload["data"]["actor"]["account"]["nrql"]["results"])
    except (KeyError, TypeError):
        return 0
