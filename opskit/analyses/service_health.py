"""Anomalies in APM and streaming-QoE series per service, with Dynatrace problems."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from pydantic import Field

from opskit.analyses._common import clock, validated
from opskit.analytics._result import Result
from opskit.config import Settings
from opskit.health import service_health as _service_health

__all__ = ["service_health"]


@validated
def service_health(
    days: Annotated[int, Field(ge=1, le=30)] = 7,
    resolution: Literal["1min", "5min", "15min", "1h"] = "5min",
    include_qoe: bool = True,
    settings: Settings | None = None,
) -> Result:
    """Anomalies in APM and streaming-QoE series per service, with Dynatrace problems.

    Parameters
    ----------
    days
        Window in days, ending now when New Relic, Dynatrace or Conviva data is
        live, else where the warehouse data ends (:func:`~opskit.analyses._common.clock`;
        the page says which).
    resolution
        APM bucket.
    include_qoe
        Also scan per-CDN rebuffering and start-failure series.

    Returns
    -------
    Result
        See :func:`opskit.health.service_health` (one status rule for every service).
    """
    inputs = ("apm_health", "problems", *(("streaming_qoe",) if include_qoe else ()))
    c = clock(settings, *inputs)
    start, end = c.window(days)
    result = _service_health(start=start, end=end, resolution=resolution, include_qoe=include_qoe,
                             settings=settings)  # fmt: skip
    result.notes.insert(0, c.note)
    result.provenance = dataclasses.replace(
        result.provenance,
        detail="; ".join(d for d in (c.clause, result.provenance.detail) if d),
    )
    return result
