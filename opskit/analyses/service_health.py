"""Anomalies in APM and streaming-QoE series per service, with Dynatrace problems."""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from pydantic import Field

from opskit.analyses._common import as_of, validated
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
        Window in days, ending at the data's as-of time.
    resolution
        APM bucket.
    include_qoe
        Also scan per-CDN rebuffering and start-failure series.

    Returns
    -------
    Result
        See :func:`opskit.health.service_health` (one status rule for every service).
    """
    end = as_of(settings)
    return _service_health(start=end - pd.Timedelta(days=days), end=end, resolution=resolution,
                           include_qoe=include_qoe, settings=settings)  # fmt: skip
