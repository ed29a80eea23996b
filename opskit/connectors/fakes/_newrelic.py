"""Fake New Relic NerdGraph (``POST /graphql``) following api-contracts.md section 1."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from opskit.connectors.fakes._base import FakeService, unit

__all__ = ["NEWRELIC_ACCOUNT", "NEWRELIC_KEY", "NewRelicFake", "NrqlSyntaxError", "parse_nrql"]

NEWRELIC_KEY = "NRAK-FAKE0000000000000000000000"
NEWRELIC_ACCOUNT = 1234567
SERVICES = (
    "playback-api",
    "manifest-svc",
    "auth-svc",
    "catalog-api",
    "search-api",
    "recommendations",
    "drm-license",
    "ads-decision",
    "user-profile",
    "billing-api",
    "edge-gateway",
    "telemetry-ingest",
)
HOSTS = tuple(f"edge-cache-{i:02d}" for i in range(1, 7))
MAX_BUCKETS = 366
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<tick>`[^`]*`)|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<word>[A-Za-z_][\w.]*)|(?P<punct>[(),:*]|[=<>!]+))"
)
_UNITS = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600}


class NrqlSyntaxError(ValueError):
    """The fake could not parse a NRQL query (the real API answers with ``errors[]``)."""


def _tokens(nrql: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(nrql):
        if nrql[pos:].strip() == "":
            break
        m = _TOKEN.match(nrql, pos)
        if not m:
            raise NrqlSyntaxError(f"NRQL Syntax Error: Error at position {pos}")
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        elif kind == "tick":
            kind, text = "word", text[1:-1]
        out.append((kind, text))
        pos = m.end()
    return out


def parse_nrql(nrql: str) -> dict[str, Any]:
    """Parse the NRQL shapes opskit sends; unknown structure raises :class:`NrqlSyntaxError`."""
    toks = _tokens(nrql)
    words = [t.upper() if k == "word" else None for k, t in toks]
    if not toks or words[0] != "SELECT" or "FROM" not in words:
        raise NrqlSyntaxError("NRQL Syntax Error: expected SELECT ... FROM")
    i = words.index("FROM")
    aliases = [toks[j + 1][1] for j in range(1, i) if words[j] == "AS" and toks[j + 1][0] == "str"]
    q: dict[str, Any] = {"aliases": aliases, "from": toks[i + 1][1], "where": None, "limit": 10}
    i += 2

    def expect(kind: str) -> str:
        nonlocal i
        if i >= len(toks) or toks[i][0] != kind:
            raise NrqlSyntaxError(f"NRQL Syntax Error: unexpected token at {i}")
        i += 1
        return toks[i - 1][1]

    while i < len(toks):
        word = words[i]
        i += 1
        if word == "WHERE":
            attr = expect("word")
            if i >= len(toks) or words[i] != "IN":
                raise NrqlSyntaxError("NRQL Syntax Error: only 'attr IN (...)' is supported")
            i += 1
            if expect("punct") != "(":
                raise NrqlSyntaxError("NRQL Syntax Error: expected (")
            values = [expect("str")]
            while i < len(toks) and toks[i] == ("punct", ","):
                i += 1
                values.append(expect("str"))
            if expect("punct") != ")":
                raise NrqlSyntaxError("NRQL Syntax Error: expected )")
            q["where"] = (attr, values)
        elif word == "FACET":
            q["facet"] = expect("word")
        elif word in ("SINCE", "UNTIL"):
            q[word.lower()] = int(expect("num"))
        elif word == "TIMESERIES":
            n = int(expect("num"))
            unit_word = expect("word").lower()
            if unit_word not in _UNITS:
                raise NrqlSyntaxError(f"NRQL Syntax Error: unknown unit {unit_word}")
            q["bucket_s"] = n * _UNITS[unit_word]
        elif word == "LIMIT":
            if i < len(toks) and words[i] == "MAX":
                q["limit"], i = 5000, i + 1
            else:
                q["limit"] = int(expect("num"))
        else:
            raise NrqlSyntaxError(f"NRQL Syntax Error: unexpected {toks[i - 1][1]!r}")
    return q


@dataclass
class NewRelicFake(FakeService):
    """NerdGraph fake: API-Key auth, NRQL routed to deterministic TIMESERIES/FACET results.

    Parameters
    ----------
    api_key, account_id
        The valid credentials (others get the real 401 ``BAD_API_KEY`` body / an
        account ``errors[]`` on 200).
    apdex_form
        ``"object"``, ``"number"`` or ``"mixed"`` (parse both).
    timeout_below_s
        Queries whose NRQL ``timeout`` is below this get a ``TIMEOUT`` GraphQL error.
    canned
        Exact NRQL text -> results, for raw :meth:`nrql` tests.
    concurrency_limit
        In-flight requests above this get a 429 without ``Retry-After``.
    """

    api_key: str = NEWRELIC_KEY
    account_id: int = NEWRELIC_ACCOUNT
    services: tuple[str, ...] = SERVICES
    hosts: tuple[str, ...] = HOSTS
    apdex_form: str = "mixed"
    null_rate: float = 0.01
    timeout_below_s: int | None = None
    canned: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    concurrency_limit: int = 25
    _in_flight: int = field(default=0, init=False)

    def route_of(self, request: httpx.Request) -> str:
        return "graphql" if request.url.path == "/graphql" else request.url.path

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("API-Key") != self.api_key:
            return httpx.Response(
                401,
                json={
                    "errors": [
                        {
                            "message": "Bad API Key or no API Key provided",
                            "extensions": {"error_code": "BAD_API_KEY"},
                        }
                    ]
                },
            )
        return None

    def error(self, status: int, request: httpx.Request) -> httpx.Response:
        if status == 429:  # concurrency limit; no Retry-After documented
            return httpx.Response(429, json={"errors": [{"message": "Too many requests"}]})
        return super().error(status, request)

    def special(self, fault: str, request: httpx.Request, route: str) -> httpx.Response | None:
        if fault == "nr_timeout":
            return _graphql_error("NRDB query duration exceeded the set timeout", "TIMEOUT")
        if fault == "no_results":
            return httpx.Response(200, json={"data": {"actor": {"account": {"nrql": {}}}}})
        return super().special(fault, request, route)

    def handle(self, route: str, request: httpx.Request, body: Any) -> httpx.Response:
        if route != "graphql" or request.method != "POST":
            return httpx.Response(404, text="Not Found", headers={"Content-Type": "text/plain"})
        if not isinstance(body, dict) or "query" not in body:
            return httpx.Response(400, json={"errors": [{"message": "Unexpected token in JSON"}]})
        with self._lock:
            self._in_flight += 1
            busy = self._in_flight > self.concurrency_limit
        try:
            if busy:
                return self.error(429, request)
            return self._answer(body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, body: dict[str, Any]) -> httpx.Response:
        variables = body.get("variables") or {}
        if variables.get("accountId") != self.account_id:
            return _graphql_error(
                f"Account {variables.get('accountId')} is not accessible with this key",
                "FORBIDDEN",
                data={"actor": {"account": None}},
            )
        query = str(body["query"])
        if "nrql(" not in query:
            account = {"id": self.account_id, "name": "Streaming Prod"}
            return httpx.Response(
                200, json={"data": {"actor": {"user": {"id": 1}, "account": account}}}
            )
        timeout = variables.get("timeout") or 5
        if self.timeout_below_s is not None and timeout < self.timeout_below_s:
            return _graphql_error("NRDB query duration exceeded the set timeout", "TIMEOUT")
        nrql = str(variables.get("nrql") or "")
        if nrql in self.canned:
            return _results(self.canned[nrql])
        try:
            q = parse_nrql(nrql)
            results = self._rows(q)
        except NrqlSyntaxError as exc:
            return _graphql_error(
                str(exc), "NRQL_SYNTAX_ERROR", data={"actor": {"account": {"nrql": None}}}
            )
        return _results(results)

    def _rows(self, q: dict[str, Any]) -> list[dict[str, Any]]:
        event = q["from"]
        universe = {
            "Transaction": self.services,
            "TransactionError": self.services,
            "SystemSample": self.hosts,
        }
        if event not in universe or "since" not in q or "until" not in q:
            raise NrqlSyntaxError(f"NRQL Syntax Error: unsupported query on {event}")
        entities = list(universe[event])
        if q["where"] is not None:
            entities = [e for e in entities if e in q["where"][1]]
        entities = entities[: q["limit"]]
        step = q.get("bucket_s")
        starts = [q["since"] // 1000]
        if step:
            count = math.ceil((q["until"] - q["since"]) / 1000 / step)
            if count > MAX_BUCKETS:
                raise NrqlSyntaxError(
                    f"NRQL Syntax Error: TIMESERIES {count} buckets > {MAX_BUCKETS}"
                )
            starts = [q["since"] // 1000 + k * step for k in range(count)]
        rows = []
        for idx, entity in enumerate(entities):
            for t in starts:
                row: dict[str, Any] = {"beginTimeSeconds": t, "endTimeSeconds": t + (step or 0)}
                row["facet"] = entity
                row[q.get("facet", "appName")] = entity
                for alias in q["aliases"]:
                    row[alias] = self._value(alias, idx, entity, t)
                rows.append(row)
        return rows

    def _value(self, alias: str, idx: int, entity: str, t: int) -> Any:
        u = unit(self.seed, entity, t, alias)
        if alias in ("p50", "p95") and unit(self.seed, entity, t, "null") < self.null_rate:
            return None
        base = 200 + 150 * idx
        diurnal = 1 + 0.5 * math.sin(2 * math.pi * (t % 86400) / 86400)
        if alias == "throughput_rpm":
            return round(base * diurnal * (0.9 + 0.2 * u), 3)
        if alias == "p50":
            return {"50": round(0.05 + 0.1 * u, 4)}
        if alias == "p95":
            return {"95": round(0.2 + 0.4 * u, 4)}
        if alias == "error_pct":
            return round(2.0 * u, 4)
        if alias == "apdex":
            score = round(0.85 + 0.15 * u, 4)
            as_number = self.apdex_form == "number" or (self.apdex_form == "mixed" and idx % 2)
            return score if as_number else {"score": score, "s": 700, "t": 20, "f": 3, "count": 723}
        if alias in ("cpu_pct", "mem_pct"):
            return round(20 + 60 * u, 3)
        if alias == "error_count":
            return int(20 * u)
        return None


def _results(results: list[dict[str, Any]]) -> httpx.Response:
    nrql = {"results": results, "metadata": {"facets": None, "eventTypes": ["Transaction"]}}
    return httpx.Response(200, json={"data": {"actor": {"account": {"nrql": nrql}}}})


def _graphql_error(message: str, error_class: str, data: Any = None) -> httpx.Response:
    payload = {
        "data": data if data is not None else {"actor": {"account": {"nrql": None}}},
        "errors": [
            {
                "message": message,
                "path": ["actor", "account", "nrql"],
                "locations": [{"line": 3, "column": 5}],
                "extensions": {"errorClass": error_class},
            }
        ],
    }
    return httpx.Response(200, json=payload)
