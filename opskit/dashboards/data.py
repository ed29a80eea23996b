"""The frames a board view is built from: catalog loads and precomputed tables.

:class:`DashboardData` loads frames for a :class:`~opskit.dashboards.filters.Filters`
value through the catalog memo (and an in-process LRU). What is slow to compute
(the tables of :func:`opskit.health.service_health`, ~10 s; Kaplan-Meier retention
curves by plan, overall and per region) is stored once per warehouse build in the
view store (:mod:`opskit.dashboards.store`) and read with :func:`stored_frame`.

The catalog (datasets, scipy, Ibis expressions) is imported where data is computed:
a viewer kernel reading stored board views never needs it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import pandas as pd

from opskit import provenance as prov
from opskit.config import Settings, load_settings
from opskit.dashboards.filters import Filters
from opskit.dashboards.store import read_table, write_table

__all__ = [
    "HEALTH_TABLES",
    "DashboardData",
    "compute_health_tables",
    "compute_retention",
    "stored_frame",
]

logger = logging.getLogger(__name__)

#: The stored service-health tables (``health_<name>``).
HEALTH_TABLES = ("summary", "alerts", "anomalies", "problems")
_ANOMALY_COLUMNS = ["entity", "metric", "timestamp", "value", "score", "is_anomaly", "severity",
                    "expected", "lower", "upper", "detector"]  # fmt: skip


def compute_health_tables(settings: Settings) -> None:
    """Run :func:`opskit.health.service_health` and store its tables (``health_*``)."""
    from opskit.health import ALERT_SCORE, service_health

    result = service_health(settings=settings)
    p = result.provenance
    anomalies = result.tables["anomalies"]
    tables = {
        "summary": result.frame,
        "alerts": result.tables["alerts"],
        "anomalies": anomalies[[c for c in _ANOMALY_COLUMNS if c in anomalies.columns]].assign(
            is_alert=anomalies["score"] >= ALERT_SCORE
        ),
        "problems": result.tables["problems"].drop(columns=["provenance"], errors="ignore"),
    }
    for name, frame in tables.items():
        frame = frame.reset_index(drop=True)
        frame.attrs["summary"] = {k: str(v) for k, v in result.summary.items()}
        write_table(f"health_{name}", prov.attach(frame.copy(), p), settings)


def compute_retention(settings: Settings, regions: Iterable[str | None]) -> None:
    """Store Kaplan-Meier retention curves by plan (``retention``) for each of ``regions``.

    ``None`` stands for every region together.
    """
    from opskit.analytics.churn import retention_curves
    from opskit.catalog import load

    months = load("subscriber_months", settings=settings)
    for region in regions:
        part = months if region is None else months[months["region"] == region]
        result = retention_curves(part, by="plan", horizon_months=24)
        frame = prov.attach(result.frame.reset_index(drop=True), result.provenance)
        write_table("retention", frame, settings, region=region)


def stored_frame(
    name: str, *, settings: Settings | None = None, compute: bool = True, **key: Any
) -> pd.DataFrame | None:
    """A precomputed table (``health_alerts``, ``retention`` ...) for this warehouse build.

    When it is missing and ``compute`` is true, the precompute step that makes it
    runs now (logged at WARNING: the first viewer pays for it) and stores it.
    """
    settings = settings or load_settings()
    found = read_table(name, settings, **key)
    if found is not None or not compute:
        return found
    logger.warning("no precomputed %s %s for this warehouse: computing it now", name, key)
    if name.startswith("health_"):
        compute_health_tables(settings)
    elif name == "retention":
        compute_retention(settings, [key.get("region")])
    return read_table(name, settings, **key)


class DashboardData:
    """Frames for the dashboards, read from the catalog memo and precomputed results.

    Parameters
    ----------
    settings
        Settings to use (default: read from the environment).
    max_frames
        Frames kept in this process (least recently used dropped first).
    """

    def __init__(self, *, settings: Settings | None = None, max_frames: int = 96) -> None:
        self.settings = settings or load_settings()
        self._frames: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._max = max_frames
        from opskit.catalog import get_dataset
        from opskit.datasets import Context
        from opskit.warehouse import open_warehouse

        wh = open_warehouse(self.settings)
        try:
            meta = wh.meta()
            self.as_of = (
                pd.Timestamp(meta["data_end"])
                if "data_end" in meta
                else pd.Timestamp.now(tz="UTC").floor("h")
            )
            ctx = Context(wh, {}, self.as_of)
            kpi = get_dataset("kpi_summary")
            self.options: dict[str, list[str]] = {
                k: kpi.filter(k).valid_options(ctx) for k in ("region", "device", "plan")
            }
        finally:
            wh.close()

    def load(self, name: str, filters: Filters, **extra: Any) -> pd.DataFrame:
        """``opskit.load(name)`` for the filter bar's state (memoised here and in the catalog)."""
        kwargs = filters.for_dataset(name, self.as_of, **extra)
        key = f"{name}|{sorted(kwargs.items())}"
        frame = self._frames.get(key)
        if frame is None:
            from opskit.catalog import load

            frame = load(name, settings=self.settings, **kwargs)
            self._frames[key] = frame
            while len(self._frames) > self._max:
                self._frames.popitem(last=False)
        else:
            self._frames.move_to_end(key)
        return frame

    def stored(self, name: str, **key: Any) -> pd.DataFrame:
        """A precomputed table (computed now if missing), kept in this process."""
        cache_id = f"stored:{name}|{sorted(key.items())}"
        frame = self._frames.get(cache_id)
        if frame is None:
            found = stored_frame(name, settings=self.settings, **key)
            if found is None:
                raise LookupError(f"no precomputed {name} {key}")
            frame = self._frames[cache_id] = found
        return frame

    def view(self, filters: Filters) -> dict[str, pd.DataFrame]:
        """Every frame the overview shows for ``filters``."""
        qoe_grain = "hour" if filters.days <= 14 else "day"
        return {
            "kpis": self.load("kpi_summary", filters),
            "revenue": self.load("revenue_impact", filters),
            "cohorts": self.load("churn_signals", filters),
            "qoe": self.load("streaming_qoe", filters, granularity=qoe_grain),
            "issues": self.load("production_issues", filters),
            "pareto": self.load(
                "pareto_analysis", filters, dimension=["delay_by_component", "cost_overrun_by_show"]
            ),
            "efficiency": self.load("operational_efficiency", filters),
        }
