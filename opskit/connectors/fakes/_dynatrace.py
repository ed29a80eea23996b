"""Fake Dynatrace Environment API v2 following api-contracts.md section 2.

Pagination exactly as documented: the next request may carry only
``nextPageKey`` (plus ``fields`` on ``/problems``), anything else is a 400 with
the ``constraintViolations`` body; keys are opaque, single-use and
``nextPageKey`` is ``null`` (or omitted, ``omit_last_key=True``) on the last page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from opskit.connectors.fakes._base import FakeService, unit

__all__ = ["ANCHOR_MS", "DYNATRACE_TOKEN", "DynatraceFake"]

DYNATRACE_TOKEN = (
    "dt0c01.FAKETOKEN00000000000000.FAKESECRET0000000000000000000000000000000000000000000000000000"
)
SCOPES = frozenset({"problems.read", "metrics.read", "entities.read"})
#: "now" of the fake (2024-06-01T00:00Z); relative times are resolved against it.
ANCHOR_MS = 1717200000000
_ROUTES = {
    "/api/v2/problems": "problems",
    "/api/v2/metrics/query": "metrics",
    "/api/v2/entities": "entities",
}
_SCOPE_OF = {"problems": "problems.read", "metrics": "metrics.read", "entities": "entities.read"}
_REL = re.compile(r"now(?:-(\d+)([smhdw]))?$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
IMPACT = ("SERVICES", "APPLICATION", "INFRASTRUCTURE", "ENVIRONMENT")
SEVERITY = ("ERROR", "AVAILABILITY", "PERFORMANCE", "RESOURCE_CONTENTION", "CUSTOM_ALERT")


def _violation(path: str, message: str) -> dict[str, Any]:
    return {"path": path, "message": message, "parameterLocation": "QUERY", "location": None}


def _bad_request(
    *violations: dict[str, Any], message: str = "Constraints violated."
) -> httpx.Response:
    return httpx.Response(
        400,
        json={"error": {"code": 400, "message": message, "constraintViolations": list(violations)}},
    )


def _split_top(selector: str) -> list[str]:
    parts, depth, quote, cur = [], 0, False, ""
    for ch in selector:
        if ch == '"':
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [p for p in [*parts, cur] if p.strip()]


@dataclass
class DynatraceFake(FakeService):
    """Environment API v2 fake (problems, metrics query, entities); ``/e/{env}`` accepted."""

    tokens: dict[str, frozenset[str]] = field(default_factory=lambda: {DYNATRACE_TOKEN: SCOPES})
    n_problems: int = 120
    services: tuple[str, ...] = ("playback-api", "manifest-svc", "auth-svc", "catalog-api")
    hosts: tuple[str, ...] = ("edge-cache-01", "edge-cache-02", "edge-cache-03")
    omit_last_key: bool = False
    retry_after_s: int = 2
    reset_in_s: float = 3.0
    _keys: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)

    def route_of(self, request: httpx.Request) -> str:
        path = re.sub(r"^/e/[^/]+", "", request.url.path)
        return _ROUTES.get(path, path)

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header or scheme != "Api-Token":
            return httpx.Response(
                401, json={"error": {"code": 401, "message": "Missing authorization parameter."}}
            )
        if token not in self.tokens:
            return httpx.Response(
                401, json={"error": {"code": 401, "message": "Token Authentication failed"}}
            )
        route = self.route_of(request)
        scope = _SCOPE_OF.get(route)
        if scope and scope not in self.tokens[token]:
            return httpx.Response(
                403,
                json={
                    "error": {
                        "code": 403,
                        "message": f"Token is missing required scope. Use one of: {scope}",
                    }
                },
            )
        return None

    def error(self, status: int, request: httpx.Request) -> httpx.Response:
        if status == 429:
            return self._too_many(retry_after=True)
        if status in (401, 403, 404, 400):
            return httpx.Response(
                status, json={"error": {"code": status, "message": f"fake {status}"}}
            )
        return super().error(status, request)

    def _too_many(self, *, retry_after: bool) -> httpx.Response:
        headers = {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int((self.clock() + self.reset_in_s) * 1_000_000)),
        }
        if retry_after:
            headers["Retry-After"] = str(self.retry_after_s)
        body = {
            "error": {"code": 429, "message": "Too many requests.", "constraintViolations": None}
        }
        return httpx.Response(429, json=body, headers=headers)

    def special(self, fault: str, request: httpx.Request, route: str) -> httpx.Response | None:
        if fault == "429_no_retry_after":
            return self._too_many(retry_after=False)
        if fault == "envelope_array":
            return httpx.Response(
                400, json=[{"error": {"code": 400, "message": "Invalid selector"}}]
            )
        return super().special(fault, request, route)

    # -- time --------------------------------------------------------------------------------
    def _ms(self, value: str | None, default: int) -> int:
        if value is None:
            return default
        m = _REL.match(value.strip())
        if m:
            return ANCHOR_MS - (int(m.group(1)) * _UNIT_MS[m.group(2)] if m.group(1) else 0)
        return int(value)

    # -- routes ------------------------------------------------------------------------------
    def handle(self, route: str, request: httpx.Request, body: Any) -> httpx.Response:
        if request.method != "GET":
            return httpx.Response(
                405, json={"error": {"code": 405, "message": "Method not allowed"}}
            )
        params = request.url.params
        if "nextPageKey" in params:
            return self._next_page(route, params)
        if route == "problems":
            return self._first_page(route, params, "problems", self._problems(params), max_size=500)
        if route == "entities":
            if not params.get("entitySelector"):
                return _bad_request(_violation("entitySelector", "must not be null"))
            return self._first_page(
                route, params, "entities", self._entities(params), max_size=4000
            )
        if route == "metrics":
            return self._metrics(params)
        return httpx.Response(404, json={"error": {"code": 404, "message": "Not found"}})

    def _first_page(
        self,
        route: str,
        params: httpx.QueryParams,
        key: str,
        items: list[dict[str, Any]],
        *,
        max_size: int,
    ) -> httpx.Response:
        size = int(params.get("pageSize", 50))
        if size > max_size or size < 1:
            return _bad_request(_violation("pageSize", f"must be less than or equal to {max_size}"))
        return self._page(route, key, items, 0, size, params.get("fields"))

    def _page(
        self,
        route: str,
        key: str,
        items: list[dict[str, Any]],
        offset: int,
        size: int,
        fields: str | None,
    ) -> httpx.Response:
        chunk = items[offset : offset + size]
        if route == "problems":
            wanted = set((fields or "").split(","))
            chunk = [
                {
                    k: v
                    for k, v in p.items()
                    if k not in ("evidenceDetails", "impactAnalysis") or k in wanted
                }
                for p in chunk
            ]
        payload: dict[str, Any] = {"totalCount": len(items), "pageSize": size, key: chunk}
        if offset + size < len(items):
            token = self.cursor()
            self._keys[token] = {
                "route": route,
                "key": key,
                "items": items,
                "offset": offset + size,
                "size": size,
            }
            payload["nextPageKey"] = token
        elif not self.omit_last_key:
            payload["nextPageKey"] = None
        return httpx.Response(200, json=payload)

    def _next_page(self, route: str, params: httpx.QueryParams) -> httpx.Response:
        allowed = {"nextPageKey", "fields"} if route == "problems" else {"nextPageKey"}
        extra = sorted(set(params.keys()) - allowed)
        if extra:
            return _bad_request(
                *(
                    _violation(
                        p, "must not be used in combination with nextPageKey query parameter."
                    )
                    for p in extra
                )
            )
        state = self._keys.pop(params["nextPageKey"], None)  # single use: replays are rejected
        if state is None or state["route"] != route:
            return _bad_request(
                _violation("nextPageKey", "The nextPageKey is invalid or has expired.")
            )
        return self._page(
            route,
            state["key"],
            state["items"],
            state["offset"],
            state["size"],
            params.get("fields"),
        )

    def _problems(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        t0 = self._ms(params.get("from"), ANCHOR_MS - 2 * 3_600_000)
        t1 = self._ms(params.get("to"), ANCHOR_MS)
        selector = params.get("problemSelector") or ""
        out = []
        for i in range(self.n_problems):
            start = ANCHOR_MS - 7 * 86_400_000 + int(unit(self.seed, "p", i) * 7 * 86_400_000)
            is_open = unit(self.seed, "open", i) < 0.15
            end = -1 if is_open else start + int((5 + 235 * unit(self.seed, "dur", i)) * 60_000)
            if start >= t1 or (end != -1 and end < t0):
                continue
            if 'status("open")' in selector and not is_open:
                continue
            if 'status("closed")' in selector and is_open:
                continue
            svc = self.services[i % len(self.services)]
            entity = {
                "entityId": {"id": f"SERVICE-{i % len(self.services):016X}", "type": "SERVICE"},
                "name": svc,
            }
            out.append(
                {
                    "problemId": f"-{6156404735398726308 + i}_{start}V2",
                    "displayId": f"P-{221194163 + i}",
                    "title": (
                        "Failure rate increase",
                        "Response time degradation",
                        "Host unavailable",
                    )[i % 3],
                    "impactLevel": "NEW_IMPACT_LEVEL" if i % 37 == 5 else IMPACT[i % len(IMPACT)],
                    "severityLevel": "FUTURE_SEVERITY"
                    if i % 29 == 3
                    else SEVERITY[i % len(SEVERITY)],
                    "status": "OPEN" if is_open else "CLOSED",
                    "startTime": start,
                    "endTime": end,
                    "affectedEntities": [entity] if i % 11 else [],
                    "impactedEntities": [entity],
                    "rootCauseEntity": None if i % 4 else {**entity, "name": f"{svc}-pod-{i % 5}"},
                    "managementZones": [{"id": "4421", "name": "streaming-prod"}],
                    "entityTags": [],
                    "problemFilters": [{"id": "c3d2", "name": "Default"}],
                    "evidenceDetails": {"totalCount": 1, "details": []},
                    "k8s.cluster.name": "prod-eu-1",  # unknown extra field
                }
            )
        return out

    def _entities(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        selector = params.get("entitySelector") or ""
        kind = "HOST" if 'type("HOST")' in selector else "SERVICE"
        names = self.hosts if kind == "HOST" else self.services
        return [
            {
                "entityId": f"{kind}-{i:016X}",
                "type": kind,
                "displayName": name,
                "firstSeenTms": ANCHOR_MS - 30 * 86_400_000,
                "lastSeenTms": ANCHOR_MS - 60_000,
                "properties": {"osType": "LINUX"} if kind == "HOST" else {},
                "tags": [
                    {
                        "context": "CONTEXTLESS",
                        "key": "env",
                        "value": "prod",
                        "stringRepresentation": "env:prod",
                    }
                ],
                "managementZones": [{"id": "4421", "name": "streaming-prod"}],
            }
            for i, name in enumerate(names)
        ]

    def _metrics(self, params: httpx.QueryParams) -> httpx.Response:
        selectors = _split_top(params.get("metricSelector") or "")
        if not selectors:
            return _bad_request(_violation("metricSelector", "must not be empty"))
        if len(selectors) > 10:
            return _bad_request(_violation("metricSelector", "at most 10 metrics may be queried"))
        res = params.get("resolution", "1m")
        m = re.fullmatch(r"(\d+)([mhd])", res)
        step = int(m.group(1)) * _UNIT_MS[m.group(2)] if m else 3_600_000
        t0 = self._ms(params.get("from"), ANCHOR_MS - 2 * 3_600_000)
        t1 = self._ms(params.get("to"), ANCHOR_MS)
        stamps = list(range(t0 - t0 % step + step, t1 + 1, step))
        results = []
        for sel in selectors:
            kind = (
                "host"
                if "dt.entity.host" in sel
                else "service"
                if "dt.entity.service" in sel
                else None
            )
            names = self.hosts if kind == "host" else self.services if kind == "service" else ("",)
            data = []
            for i, name in enumerate(names):
                ident = f"{(kind or '').upper()}-{i:016X}"
                dims = ([name, ident] if ":names" in sel else [ident]) if kind else []
                dmap = (
                    {
                        f"dt.entity.{kind}": ident,
                        **({f"dt.entity.{kind}.name": name} if ":names" in sel else {}),
                    }
                    if kind
                    else {}
                )
                values = [
                    None
                    if unit(self.seed, sel, name, t, "gap") < 0.05
                    else round(100 * unit(self.seed, sel, name, t), 3)
                    for t in stamps
                ]
                data.append(
                    {
                        "dimensions": dims,
                        "dimensionMap": dmap,
                        "timestamps": stamps,
                        "values": values,
                    }
                )
            results.append(
                {
                    "metricId": sel,
                    "dataPointCountRatio": 0.0036,
                    "dimensionCountRatio": 0.01,
                    "data": data,
                }
            )
        return httpx.Response(
            200,
            json={
                "totalCount": len(results),
                "nextPageKey": None,
                "resolution": res,
                "result": results,
            },
        )
