"""Conviva Metrics V3 connector: streaming QoE -> ``StreamingQoe`` frames.

All endpoints are GET with ``Authorization: Basic base64(client_id:client_secret)``.
A time range is mandatory: this client always sends ``start_date``/``end_date``
(ISO-8601, start inclusive, end exclusive), at most 90 days per request (longer
ranges are split), never starting more than 13 months ago. Group-by is one
dimension per request, so a frame split by CDN has ``device="all"`` and vice versa.

Units (from the vendor's open-source integration, to re-check against a live
response): ratios/percentages are percent (converted to fractions), bitrate in
bps (converted to kbps), video start time in seconds (converted to ms).

An HTTP 200 must carry a ``time_series`` list: a body without one (``{}``, an
error message, a list) is a :class:`~opskit.errors.ResponseError`, never an empty
frame. An empty ``time_series`` is the API saying "no data for this window": the
frame is empty, a WARNING is logged and the provenance detail names the windows.
"""

from __future__ import annotations

import base64
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import pandas as pd
from pydantic import SecretStr

from opskit.connectors._frames import TimeLike, live_frame, to_utc
from opskit.connectors._http import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S, BaseConnector, pull
from opskit.connectors._paging import progress_iter
from opskit.connectors._redact import reveal
from opskit.errors import ResponseError
from opskit.schemas import StreamingQoe

__all__ = ["METRICS", "ConvivaConnector"]

logger = logging.getLogger(__name__)

API = "/insights/3.0"
METRICS = (
    "plays",
    "rebuffering-ratio",
    "video-start-failures",
    "exits-before-video-start",
    "bitrate",
    "video-start-time",
)
MAX_DAYS = 90
MAX_AGE_DAYS = 395  # "start older than 13 months" is rejected
GROUP_LIMIT_DEFAULT = 50
COLUMNS = [
    "timestamp",
    "cdn",
    "device",
    "plays",
    "rebuffering_ratio",
    "video_start_failure_rate",
    "exit_before_video_start_rate",
    "avg_bitrate_kbps",
    "startup_time_ms",
    "system",
]
_FILTER_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_RESERVED = frozenset(
    {
        "metric",
        "days",
        "minutes",
        "start_date",
        "end_date",
        "start_epoch",
        "end_epoch",
        "start_epoch_ms",
        "end_epoch_ms",
        "granularity",
        "filter_id",
        "kpi_id",
        "limit",
        "sort_by",
        "order",
    }
)


def _sub(obj: Any, keys: Sequence[str]) -> float:
    if not isinstance(obj, Mapping):
        return math.nan
    for key in keys:
        value = obj.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return math.nan


def _rate(metric: Any, plays: int) -> float:
    pct = _sub(metric, ("percentage", "ratio", "rate"))
    if not math.isnan(pct):
        return pct / 100.0
    count = _sub(metric, ("count",))
    return count / plays if plays and not math.isnan(count) else math.nan


def qoe_values(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """One row's QoE values from a Conviva metrics object (missing sub-keys -> NaN)."""
    plays_raw = _sub(metrics.get("plays"), ("count",))
    plays = 0 if math.isnan(plays_raw) else max(int(plays_raw), 0)
    kbps = _sub(metrics.get("bitrate"), ("kbps",))
    if math.isnan(kbps):
        kbps = _sub(metrics.get("bitrate"), ("bps", "value")) / 1000.0
    startup = _sub(metrics.get("video_start_time"), ("ms",))
    if math.isnan(startup):
        startup = _sub(metrics.get("video_start_time"), ("value", "seconds")) * 1000.0
    return {
        "plays": plays,
        "rebuffering_ratio": _sub(metrics.get("rebuffering_ratio"), ("ratio", "percentage"))
        / 100.0,
        "video_start_failure_rate": _rate(metrics.get("video_start_failures"), plays),
        "exit_before_video_start_rate": _rate(metrics.get("exits_before_video_start"), plays),
        "avg_bitrate_kbps": kbps,
        "startup_time_ms": startup,
    }


def _stamp(item: Mapping[str, Any]) -> pd.Timestamp | None:
    ts = item.get("timestamp")
    if isinstance(ts, Mapping):
        if isinstance(ts.get("epoch_ms"), int | float):
            return pd.Timestamp(int(ts["epoch_ms"]), unit="ms", tz="UTC")
        ts = ts.get("iso_date")
    if isinstance(ts, str):
        return to_utc(ts)
    if isinstance(ts, int | float):
        return pd.Timestamp(int(ts), unit="ms", tz="UTC")
    return None


class ConvivaConnector(BaseConnector):
    """Read streaming QoE from Conviva Metrics V3.

    Parameters
    ----------
    client_id, client_secret
        API client credentials from Pulse "API Management" (Basic auth).
    base_url
        ``https://api.conviva.com`` (``/insights/3.0`` is added).
    cdn_dimension, device_dimension
        Group-by dimension names for CDN and device.
    group_limit
        Group-by ``limit`` (<= 500; above 50 requests are split into 24 h windows).
    timeout_s, deadline_s, max_retries, requests_per_second, progress, sleep, clock, transport
        As for every connector.
    """

    system = "conviva"
    auth_hint = (
        "OPSKIT_CONVIVA__CLIENT_ID and OPSKIT_CONVIVA__CLIENT_SECRET "
        "(API client credentials, not Pulse logins)"
    )

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | SecretStr,
        base_url: str = "https://api.conviva.com",
        cdn_dimension: str = "cdn",
        device_dimension: str = "device-name",
        group_limit: int = GROUP_LIMIT_DEFAULT,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        deadline_s: float = DEFAULT_DEADLINE_S,
        max_retries: int = 4,
        requests_per_second: float = 5.0,
        progress: bool | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        secret = reveal(client_secret)
        if not 1 <= group_limit <= 500:
            raise ValueError("group_limit must be between 1 and 500")
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.dimensions = {"cdn": cdn_dimension, "device": device_dimension}
        self.group_limit = group_limit
        self.progress = progress
        super().__init__(
            base_url=base_url.rstrip("/").removesuffix(API),
            headers={"Authorization": f"Basic {basic}"},
            secrets=[secret, basic],
            timeout_s=timeout_s,
            deadline_s=deadline_s,
            max_retries=max_retries,
            requests_per_second=requests_per_second,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )

    def _windows(
        self, start: TimeLike, end: TimeLike, grouped: bool
    ) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        t0, t1 = to_utc(start), to_utc(end)
        if t1 <= t0:
            raise ValueError("end must be after start (end is exclusive)")
        now = pd.Timestamp(self._clock(), unit="s", tz="UTC")
        if t0 < now - pd.Timedelta(days=MAX_AGE_DAYS):
            raise ValueError("Conviva keeps 13 months of history: start is too old")
        step = pd.Timedelta(days=1 if grouped and self.group_limit > 50 else MAX_DAYS)
        out = []
        while t0 < t1:
            out.append((t0, min(t0 + step, t1)))
            t0 += step
        return out

    @pull
    def fetch_qoe(
        self,
        *,
        start: TimeLike,
        end: TimeLike,
        by: str | None = None,
        granularity: str = "PT1H",
        filters: Mapping[str, str | Sequence[str]] | None = None,
        filter_id: str | None = None,
    ) -> pd.DataFrame:
        """QoE per time bucket, optionally split by ``"cdn"`` or ``"device"``.

        Parameters
        ----------
        start, end
            UTC range, start inclusive, end exclusive; split into <= 90-day requests.
        by
            ``None``, ``"cdn"`` or ``"device"``; the other column is ``"all"``.
        granularity
            ISO-8601 duration, e.g. ``PT1H``.
        filters
            Dimension filters (``{"device_os": ["Android", "iOS"]}``; values OR-ed,
            case-sensitive). Not combinable with ``filter_id``.

        Returns
        -------
        pandas.DataFrame
            :class:`opskit.schemas.StreamingQoe`. Windows the API reports no data
            for are named in the provenance detail (and logged at WARNING).

        Raises
        ------
        ResponseError
            If an HTTP 200 carries no ``time_series`` list, or items without timestamps.
        """
        if by not in (None, "cdn", "device"):
            raise ValueError("by must be None, 'cdn' or 'device'")
        if filter_id and filters:
            raise ValueError("Conviva does not combine filter_id with dimension filters")
        extra: list[tuple[str, str]] = []
        for name, values in (filters or {}).items():
            if not _FILTER_NAME.fullmatch(name) or name in _RESERVED:
                raise ValueError(f"invalid Conviva filter name {name!r}")
            for v in [values] if isinstance(values, str) else list(values):
                extra.append((name, str(v)))
        if filter_id:
            extra.append(("filter_id", str(filter_id)))
        path = f"{API}/metrics/custom-selection"
        if by:
            path += f"/group-by/{self.dimensions[by]}"
            extra.append(("limit", str(self.group_limit)))
        rows: list[dict[str, Any]] = []
        empty: list[str] = []
        windows = self._windows(start, end, grouped=by is not None)
        for w0, w1 in progress_iter(windows, enabled=self.progress, desc="conviva windows"):
            params = [("metric", m) for m in METRICS] + [
                ("start_date", w0.strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("end_date", w1.strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("granularity", granularity),
                *extra,
            ]
            body = self._request("GET", path, params=params, count=_count)
            series = self._series(body, path)
            if not series:
                empty.append(f"{w0:%Y-%m-%dT%H:%MZ}..{w1:%Y-%m-%dT%H:%MZ}")
                continue
            rows.extend(self._rows(series, by))
        detail = ""
        if empty:
            shown = ", ".join(empty[:3]) + (f" and {len(empty) - 3} more" if len(empty) > 3 else "")
            detail = f"Conviva reported no data for {len(empty)} of {len(windows)} windows: {shown}"
            logger.warning("conviva: %s (empty time_series)", detail)
        return live_frame(
            rows,
            columns=COLUMNS,
            schema=StreamingQoe,
            system=self.system,
            clock=self._clock,
            detail=detail,
        )

    def _malformed(self, path: str, what: str) -> ResponseError:
        return ResponseError(
            f"conviva: HTTP 200 from GET {path} {what}; expected an object with a "
            "time_series list (an empty list means no data)",
            system=self.system,
            url=f"{self.base_url}{path}",
            status_code=200,
        )

    def _series(self, body: Any, path: str) -> list[Mapping[str, Any]]:
        """The ``time_series`` items of a 200 body; ``ResponseError`` if there is no such list."""
        if not isinstance(body, Mapping):
            raise self._malformed(path, f"is a JSON {type(body).__name__}, not an object")
        series = body.get("time_series")
        if not isinstance(series, list):
            keys = ", ".join(sorted(map(str, body))[:5]) or "none"
            raise self._malformed(path, f"has no time_series list (keys: {keys})")
        items = [i for i in series if isinstance(i, Mapping)]
        if series and not any(_stamp(i) is not None for i in items):
            raise self._malformed(path, "has time_series items without timestamps")
        return items

    def _rows(self, series: list[Mapping[str, Any]], by: str | None) -> list[dict[str, Any]]:
        rows = []
        for item in series:
            ts = _stamp(item)
            if ts is None:
                continue
            if by is None:
                groups = [("all", item)]
            else:
                groups = []
                for d in item.get("dimensional_data") or []:
                    dim = d.get("dimension") or {}
                    name = dim.get("value") or dim.get("key") or "unknown"
                    groups.append((str(name), d.get("metrics") or {}))
            for name, metrics in groups:
                rows.append(
                    {
                        "timestamp": ts,
                        "cdn": name if by == "cdn" else "all",
                        "device": name if by == "device" else "all",
                        **qoe_values(metrics),
                        "system": self.system,
                    }
                )
        return rows

    def _probe(self) -> str:
        self._request("GET", f"{API}/metrics/_meta/references/dimensions", max_retries=1)
        return "Conviva Metrics V3 reachable; API client authenticated"


def _count(body: Any) -> int:
    return len(body.get("time_series") or []) if isinstance(body, dict) else 0
