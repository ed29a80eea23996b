"""Dynatrace Environment API v2 connector: problems, metrics and entities.

Pagination follows the documented rule exactly: the first request carries the
filters and ``pageSize``; every next request sends **only** ``nextPageKey``
(plus ``fields`` on ``/problems``, which must be re-sent on every page).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import httpx
import pandas as pd
from pydantic import SecretStr

from opskit.connectors._frames import TimeLike, live_frame, stamp_live, to_utc
from opskit.connectors._http import DEFAULT_DEADLINE_S, DEFAULT_TIMEOUT_S, BaseConnector, pull
from opskit.connectors._paging import Page, paginate
from opskit.connectors._redact import reveal
from opskit.schemas import ApmHealth, Problems

__all__ = ["DynatraceConnector"]

PROBLEM_COLUMNS = [
    "problem_id",
    "display_id",
    "title",
    "impact_level",
    "severity_level",
    "status",
    "start_time",
    "end_time",
    "duration_min",
    "entity",
    "root_cause",
    "management_zone",
    "system",
]
METRIC_COLUMNS = ["timestamp", "system", "entity", "metric", "value"]
MAX_PROBLEM_PAGE = 500


def _time_param(value: TimeLike) -> str:
    """Relative expressions (``now-2h``) pass through; anything else becomes epoch ms."""
    if isinstance(value, str) and value.strip().startswith("now"):
        return value.strip()
    return str(int(to_utc(value).timestamp() * 1000))


def _ms(value: Any) -> pd.Timestamp | None:
    if value is None or not isinstance(value, int | float) or value < 0:
        return None
    return pd.Timestamp(int(value), unit="ms", tz="UTC")


def _metric_name(metric_id: str) -> str:
    """``builtin:host.cpu.usage:splitBy(...):avg`` -> ``builtin:host.cpu.usage``."""
    head, _, rest = metric_id.partition(":")
    if head in ("builtin", "ext", "calc", "func", "dsfm", "legacy") and rest:
        return f"{head}:{rest.split(':', 1)[0]}"
    return head


class DynatraceConnector(BaseConnector):
    """Read problems, metrics and entities from the Dynatrace Environment API v2.

    Parameters
    ----------
    base_url
        ``https://{env}.live.dynatrace.com`` (or Managed ``https://host/e/{env}``);
        a trailing ``/api/v2`` is accepted.
    api_token
        Sent as ``Authorization: Api-Token ...`` (never as a query parameter).
        Needs ``problems.read``, ``metrics.read`` and ``entities.read``.
    page_size
        First-page ``pageSize`` (problems: at most 500).
    timeout_s, deadline_s, max_retries, requests_per_second, progress, sleep, clock, transport
        As for every connector (see :class:`opskit.connectors.NewRelicConnector`).
    """

    system = "dynatrace"
    auth_hint = "OPSKIT_DYNATRACE__API_TOKEN (scopes problems.read, metrics.read, entities.read)"

    def __init__(
        self,
        *,
        base_url: str,
        api_token: str | SecretStr,
        page_size: int = MAX_PROBLEM_PAGE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        deadline_s: float = DEFAULT_DEADLINE_S,
        max_retries: int = 4,
        requests_per_second: float = 5.0,
        progress: bool | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        token = reveal(api_token)
        if not base_url:
            raise ValueError("base_url is required (https://{environment}.live.dynatrace.com)")
        root = base_url.rstrip("/").removesuffix("/api/v2").rstrip("/")
        self.page_size = int(page_size)
        self.progress = progress
        super().__init__(
            base_url=root,
            headers={"Authorization": f"Api-Token {token}"},
            secrets=[token],
            timeout_s=timeout_s,
            deadline_s=deadline_s,
            max_retries=max_retries,
            requests_per_second=requests_per_second,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )

    # -- pagination --------------------------------------------------------------------------
    def _pull(
        self,
        path: str,
        key: str,
        first: Mapping[str, Any],
        *,
        sticky: Mapping[str, Any] | None = None,
        what: str,
    ) -> list[dict[str, Any]]:
        """Follow ``nextPageKey``: later pages send only the key (+ ``sticky`` params)."""
        params_first = {k: v for k, v in first.items() if v is not None}
        sticky = {k: v for k, v in (sticky or {}).items() if v is not None}

        def fetch(cursor: Hashable | None) -> Page[dict[str, Any]]:
            params = (
                {**params_first, **sticky} if cursor is None else {"nextPageKey": cursor, **sticky}
            )
            body = self._request(
                "GET",
                path,
                params=params,
                count=lambda b: len(b.get(key) or []) if isinstance(b, dict) else 0,
            )
            if not isinstance(body, dict):
                body = {}
            items = [i for i in body.get(key) or [] if isinstance(i, dict)]
            return Page(items, body.get("nextPageKey") or None, total=body.get("totalCount"))

        return paginate(fetch, system=self.system, what=what, progress=self.progress)

    # -- problems ----------------------------------------------------------------------------
    @pull
    def fetch_problems(
        self,
        *,
        start: TimeLike = "now-2h",
        end: TimeLike | None = None,
        problem_selector: str | None = None,
        entity_selector: str | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Problems in a time range (every page), one row per problem.

        Parameters
        ----------
        start, end
            ``from``/``to``: datetimes (sent as epoch ms) or relative (``"now-7d"``).
        problem_selector, entity_selector
            Dynatrace selectors, e.g. ``'status("open")'`` (passed as query values).
        fields
            Extra fields (``evidenceDetails``, ``impactAnalysis``...), re-sent on every page.

        Returns
        -------
        pandas.DataFrame
            :class:`opskit.schemas.Problems`; ``end_time`` is NaT while open.
        """
        page_size = min(self.page_size, MAX_PROBLEM_PAGE)
        raw = self._pull(
            "/api/v2/problems",
            "problems",
            {
                "from": _time_param(start),
                "to": _time_param(end) if end is not None else None,
                "problemSelector": problem_selector,
                "entitySelector": entity_selector,
                "pageSize": page_size,
            },
            sticky={"fields": ",".join(fields) if fields else None},
            what="problems",
        )
        rows = {}
        for p in raw:
            row = self._problem_row(p)
            if row is not None:
                rows[row["problem_id"]] = row
        return live_frame(
            list(rows.values()),
            columns=PROBLEM_COLUMNS,
            schema=Problems,
            system=self.system,
            clock=self._clock,
        )

    def _problem_row(self, p: Mapping[str, Any]) -> dict[str, Any] | None:
        pid = p.get("problemId")
        if not pid:
            return None
        start, end = _ms(p.get("startTime")), _ms(p.get("endTime"))
        status = str(p.get("status") or "").upper()
        if status not in ("OPEN", "CLOSED"):
            status = "CLOSED" if end is not None else "OPEN"
        if status == "OPEN":
            end = None
        entities = p.get("affectedEntities") or p.get("impactedEntities") or []
        first = entities[0] if entities and isinstance(entities[0], dict) else {}
        root = p.get("rootCauseEntity") if isinstance(p.get("rootCauseEntity"), dict) else None
        zones = [z.get("name") for z in p.get("managementZones") or [] if isinstance(z, dict)]
        duration = (
            (end - start).total_seconds() / 60
            if start is not None and end is not None
            else math.nan
        )
        return {
            "problem_id": str(pid),
            "display_id": str(p.get("displayId") or pid),
            "title": str(p.get("title") or ""),
            "impact_level": str(p.get("impactLevel") or "UNKNOWN"),
            "severity_level": str(p.get("severityLevel") or "UNKNOWN"),
            "status": status,
            "start_time": start if start is not None else pd.NaT,
            "end_time": end if end is not None else pd.NaT,
            "duration_min": max(duration, 0.0) if not math.isnan(duration) else math.nan,
            "entity": str(
                first.get("name") or (first.get("entityId") or {}).get("id") or "unknown"
            ),
            "root_cause": str(root.get("name")) if root and root.get("name") else None,
            "management_zone": ", ".join(z for z in zones if z) or None,
            "system": self.system,
        }

    # -- metrics -----------------------------------------------------------------------------
    @pull
    def fetch_metrics(
        self,
        selector: str,
        *,
        start: TimeLike = "now-2h",
        end: TimeLike | None = None,
        resolution: str = "1m",
        entity_selector: str | None = None,
        metric_names: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Data points of a metric selector, long format.

        Parameters
        ----------
        selector
            ``metricSelector`` (<= 10 metrics), e.g.
            ``'builtin:service.response.time:splitBy("dt.entity.service"):avg:names'``.
        resolution
            ``1m``, ``1h``, ``Inf`` or a point count.
        metric_names
            Rename metrics (keys are metric keys without transformations).

        Returns
        -------
        pandas.DataFrame
            :class:`opskit.schemas.ApmHealth` rows (``system="dynatrace"``); ``entity`` is
            the ``*.name`` dimension when ``:names`` is used, else the first dimension,
            ``"remainder"`` for the ``:limit`` remainder series and ``"all"`` when unsplit.
        """
        series = self._pull(
            "/api/v2/metrics/query",
            "result",
            {
                "metricSelector": selector,
                "resolution": resolution,
                "from": _time_param(start),
                "to": _time_param(end) if end is not None else None,
                "entitySelector": entity_selector,
            },
            what="metric series",
        )
        names = dict(metric_names or {})
        rows: list[dict[str, Any]] = []
        for result in series:
            metric_id = str(result.get("metricId") or "unknown")
            metric = names.get(_metric_name(metric_id), _metric_name(metric_id))
            for data in result.get("data") or []:
                entity = _entity_of(data)
                for ts, value in zip(
                    data.get("timestamps") or [], data.get("values") or [], strict=False
                ):
                    rows.append(
                        {
                            "timestamp": pd.Timestamp(int(ts), unit="ms", tz="UTC"),
                            "system": self.system,
                            "entity": entity,
                            "metric": metric,
                            "value": math.nan if value is None else float(value),
                        }
                    )
        return live_frame(
            rows, columns=METRIC_COLUMNS, schema=ApmHealth, system=self.system, clock=self._clock
        )

    # -- entities ----------------------------------------------------------------------------
    @pull
    def fetch_entities(
        self,
        entity_selector: str,
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Monitored entities matching a selector (every page).

        Returns
        -------
        pandas.DataFrame
            Columns ``entity_id``, ``type``, ``display_name``, ``first_seen``,
            ``last_seen``, ``tags`` (list of ``key:value``), ``management_zones``
            and ``provenance``. No catalog schema covers entities yet.
        """
        raw = self._pull(
            "/api/v2/entities",
            "entities",
            {
                "entitySelector": entity_selector,
                "from": _time_param(start) if start is not None else None,
                "to": _time_param(end) if end is not None else None,
                "fields": ",".join(fields) if fields else None,
                "pageSize": self.page_size,
            },
            what="entities",
        )
        rows = [
            {
                "entity_id": str(e.get("entityId")),
                "type": str(e.get("type") or ""),
                "display_name": str(e.get("displayName") or e.get("entityId")),
                "first_seen": _ms(e.get("firstSeenTms")),
                "last_seen": _ms(e.get("lastSeenTms")),
                "tags": [
                    t.get("stringRepresentation")
                    for t in e.get("tags") or []
                    if isinstance(t, dict)
                ],
                "management_zones": [
                    z.get("name") for z in e.get("managementZones") or [] if isinstance(z, dict)
                ],
            }
            for e in raw
        ]
        cols = [
            "entity_id",
            "type",
            "display_name",
            "first_seen",
            "last_seen",
            "tags",
            "management_zones",
        ]
        frame = pd.DataFrame(rows, columns=cols)
        for c in ("first_seen", "last_seen"):
            frame[c] = pd.to_datetime(frame[c], utc=True)
        return stamp_live(frame, system=self.system, clock=self._clock)

    def _probe(self) -> str:
        body = self._request(
            "GET", "/api/v2/problems", params={"pageSize": 1, "from": "now-2h"}, max_retries=1
        )
        total = body.get("totalCount") if isinstance(body, dict) else None
        return (
            f"Environment API reachable; problems.read granted ({total} problems in the last 2 h)"
        )


def _entity_of(data: Mapping[str, Any]) -> str:
    dims = data.get("dimensionMap")
    if isinstance(dims, dict) and dims:
        named = [v for k, v in dims.items() if k.endswith(".name") and v]
        if named:
            return str(named[0])
        values = [v for v in dims.values() if v]
        return str(values[0]) if values else "remainder"
    dimensions = data.get("dimensions")
    if isinstance(dimensions, list):
        if not dimensions:
            return "all"
        return str(dimensions[0]) if dimensions[0] is not None else "remainder"
    return "all"
