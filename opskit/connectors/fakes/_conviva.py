"""Fake Conviva Metrics V3 (``/insights/3.0``) per api-contracts.md section 5."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from opskit.connectors.fakes._base import FakeService, unit

__all__ = ["CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "ConvivaFake"]

CONVIVA_CLIENT_ID = "fake-client-id"
CONVIVA_CLIENT_SECRET = "fake-client-secret-0000000000"
DIMENSIONS = {
    "cdn": ("Akamai", "Fastly", "CloudFront"),
    "device-name": ("Android", "iOS", "Roku", "Web"),
    "device_os": ("Android", "iOS", "tvOS", "Windows"),
    "isp": ("Comcast", "Verizon", "AT&T"),
    "country": ("United States", "United Kingdom", "Brazil", "Canada", "Germany", "India"),
}
_TIME_KEYS = (
    "days",
    "minutes",
    "start_date",
    "end_date",
    "start_epoch",
    "end_epoch",
    "start_epoch_ms",
    "end_epoch_ms",
)
_RESERVED = {
    *_TIME_KEYS,
    "metric",
    "granularity",
    "filter_id",
    "kpi_id",
    "limit",
    "sort_by",
    "order",
}


def _bad(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"message": message})


def _duration(value: str) -> timedelta:
    m = re.fullmatch(r"PT(\d+)([HM])|P(\d+)D", value)
    if not m:
        raise ValueError(value)
    if m.group(3):
        return timedelta(days=int(m.group(3)))
    return (
        timedelta(hours=int(m.group(1)))
        if m.group(2) == "H"
        else timedelta(minutes=int(m.group(1)))
    )


@dataclass
class ConvivaFake(FakeService):
    """Metrics V3 fake: Basic auth, mandatory time range, 90-day/13-month rules, group-by.

    Named faults: ``"oversize"`` (413), ``"missing_subkeys"`` (metric objects without
    their sub-keys and ``null`` values), ``"no_data"`` (200 with an empty
    ``time_series``: nothing was measured in the window) and ``"no_series"`` (200
    with an object that has no ``time_series``, as a gateway or a changed API may send).
    """

    client_id: str = CONVIVA_CLIENT_ID
    client_secret: str = CONVIVA_CLIENT_SECRET
    now: datetime = datetime(2024, 6, 1, tzinfo=UTC)

    def route_of(self, request: httpx.Request) -> str:
        path = request.url.path
        if "/_meta/" in path:
            return "meta"
        if "/group-by/" in path:
            return "group"
        return "metrics" if "/metrics" in path else path

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") == f"Basic {basic}":
            return None
        return _bad(401, "Unauthorized")

    def error(self, status: int, request: httpx.Request) -> httpx.Response:
        if status == 429:  # Conviva sends no rate-limit headers
            return _bad(429, "Too Many Requests")
        return super().error(status, request)

    def special(self, fault: str, request: httpx.Request, route: str) -> httpx.Response | None:
        if fault == "oversize":
            return _bad(413, "Response size exceeds 5700000 bytes; narrow the query")
        if fault == "no_data":
            return httpx.Response(200, json={"time_series": [], "total": {}})
        if fault == "no_series":
            return httpx.Response(200, json={"status": "ok"})
        if fault == "missing_subkeys":
            body = {
                "time_series": [
                    {
                        "timestamp": {
                            "epoch_ms": 1717167600000,
                            "iso_date": "2024-05-31T15:00:00Z",
                        },
                        "plays": {"count": 10},
                        "rebuffering_ratio": {},
                        "bitrate": None,
                        "video_start_time": {"value": None},
                        "new_metric": {"x": 1},
                    }
                ]
            }
            return httpx.Response(200, json=body)
        return super().special(fault, request, route)

    def handle(self, route: str, request: httpx.Request, body: Any) -> httpx.Response:
        if request.method != "GET":
            return _bad(405, "Method Not Allowed")
        if not request.url.path.startswith("/insights/3.0/"):
            return _bad(404, "Not Found")
        if route == "meta":
            return httpx.Response(200, json={"dimensions": [{"name": k} for k in DIMENSIONS]})
        params = request.url.params
        metrics = params.get_list("metric")
        if len(metrics) > 12:
            return _bad(400, "At most 12 metrics can be requested")
        filters = [k for k in params if k not in _RESERVED]
        if "filter_id" in params and filters:
            return _bad(400, "filter_id cannot be combined with dimension filters")
        unknown = [k for k in filters if k not in DIMENSIONS]
        if unknown:
            return _bad(400, f"Unknown dimension {unknown[0]!r}")
        # a filtered selection measures a different population: seed the numbers with it
        scope = "|".join(
            f"{k}={','.join(sorted(params.get_list(k)))}" for k in sorted(set(filters))
        )
        limit = int(params.get("limit", 50))
        if route == "group" and limit > 500:
            return _bad(400, "limit must be at most 500")
        try:
            start, end = self._range(params)
            step = _duration(params.get("granularity", "PT1H"))
        except ValueError as exc:
            return _bad(400, f"Invalid time range: {exc}")
        if not start:
            return _bad(
                400, "A time range is required (days, minutes, start_date/end_date or epochs)"
            )
        if end - start > timedelta(days=90) or start < self.now - timedelta(days=395):
            return _bad(422, "Time range exceeds 90 days or starts more than 13 months ago")
        groups: tuple[str, ...] = ()
        if route == "group":
            dim = request.url.path.rsplit("/", 1)[-1]
            groups = DIMENSIONS.get(dim, ("unknown",))[:limit]
        series = []
        t = start
        while t < end:  # half-open [start, end)
            stamp = {
                "epoch_ms": int(t.timestamp() * 1000),
                "iso_date": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            if groups:
                dims = [
                    {"dimension": {"key": g, "value": g}, "metrics": self._values(t, g + scope)}
                    for g in groups
                ]
                series.append({"timestamp": stamp, "dimensional_data": dims})
            else:
                series.append({"timestamp": stamp, **self._values(t, "all" + scope)})
            t += step
        return httpx.Response(
            200, json={"time_series": series, "total": self._values(start, "total")}
        )

    def _range(self, params: httpx.QueryParams) -> tuple[datetime | None, datetime]:
        if "days" in params:
            end = self.now.replace(minute=0, second=0, microsecond=0)
            return end - timedelta(days=int(params["days"])), end
        if "start_date" in params and "end_date" in params:
            s = datetime.fromisoformat(params["start_date"].replace("Z", "+00:00"))
            e = datetime.fromisoformat(params["end_date"].replace("Z", "+00:00"))
            if e <= s:
                raise ValueError("end_date must be after start_date")
            return s, e
        if "start_epoch" in params and "end_epoch" in params:
            return (
                datetime.fromtimestamp(int(params["start_epoch"]), UTC),
                datetime.fromtimestamp(int(params["end_epoch"]), UTC),
            )
        return None, self.now

    def _values(self, t: datetime, group: str) -> dict[str, Any]:
        u = unit(self.seed, t.isoformat(), group)
        plays = int(1000 + 9000 * u)
        return {
            "plays": {"count": plays, "percentage": round(95 + 4 * u, 3)},
            "rebuffering_ratio": {"ratio": round(0.2 + 0.6 * u, 4)},
            "video_start_failures": {
                "count": int(plays * 0.01 * u),
                "percentage": round(1.0 * u, 4),
            },
            "exits_before_video_start": {
                "count": int(plays * 0.02 * u),
                "percentage": round(2.0 * u, 4),
            },
            "bitrate": {"bps": int(4_000_000 + 2_000_000 * u)},
            "video_start_time": {"value": None if u < 0.02 else round(1.2 + u, 3)},
            "unknown_future_metric": {"value": 1},
        }
