"""Headline KPIs, computed from their definitions in :mod:`opskit.metrics`.

Every KPI a dashboard card, a report tile or an MCP answer shows is a row of this
dataset: its value for the window, the previous window's, the change, the unit,
the window in words and the requested filters that do not apply to it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from opskit.datasets._registry import END, START, Context, Filter, dataset
from opskit.datasets._subscribers import subscriber_state
from opskit.datasets.business import PLAN, REGION, cohort_risk, cohort_sums, total_revenue
from opskit.datasets.ops import isin
from opskit.metrics import KPIS, METRICS, SUBSCRIPTION_VALUE_MONTHS
from opskit.schemas import OpsFrame

#: A play is "good" when it started and stalled for less than this share of watch time.
GOOD_PLAY_MAX_REBUFFERING = 0.01
#: Cohorts flagged at risk for ``mrr_at_risk_30d`` (the ``churn_signals`` defaults).
RISK_THRESHOLD, MIN_COHORT = 1.25, 50


class KpiSummary(OpsFrame):
    """One row per KPI: this window's value, the previous window's, and the change."""

    kpi: Series[str] = pa.Field(unique=True, isin=list(KPIS))
    label: Series[str]
    value: Series[float] = pa.Field(nullable=True)
    previous: Series[float] = pa.Field(nullable=True)
    change: Series[float] = pa.Field(nullable=True, description="value - previous")
    unit: Series[str] = pa.Field(isin=["count", "usd", "fraction", "score"])
    higher_is_better: Series[bool]
    window: Series[str] = pa.Field(description="what part of the window the value covers, in words")
    filters_ignored: Series[str] = pa.Field(
        description="requested filters that do not apply to this KPI (comma-separated, or empty)"
    )
    window_start: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "us", "tz": "UTC"})
    window_end: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "us", "tz": "UTC"})


def _subscribers(ctx: Context, lo: pd.Timestamp, hi: pd.Timestamp) -> dict[str, float]:
    st = isin(
        isin(subscriber_state(ctx, lo, hi), "plan", ctx.get("plan")), "region", ctx.get("region")
    )
    sums = cohort_sums(st)
    if sums.empty:
        return dict.fromkeys(("subscribers", "churn_rate", "mrr", "mrr_at_risk_30d"), np.nan) | {
            "revenue_lost_to_churn": 0.0
        }
    risk = cohort_risk(sums, RISK_THRESHOLD, MIN_COHORT)
    months = float(sums["_months"].sum())
    lost = st.aggregate(v=st.churned.ifelse(st.price_usd.fill_null(0.0), 0.0).sum()).to_pandas()
    return {
        "subscribers": float(sums["subscribers"].sum()),
        "churn_rate": float(sums["churned"].sum() / months) if months else np.nan,
        "mrr": float(sums["monthly_revenue_usd"].sum()),
        "mrr_at_risk_30d": float(risk.loc[risk["is_at_risk"], "revenue_at_risk_30d_usd"].sum()),
        "revenue_lost_to_churn": float(lost["v"].fillna(0.0).iloc[0]) * SUBSCRIPTION_VALUE_MONTHS,
    }


def _revenue(ctx: Context, lo: pd.Timestamp, hi: pd.Timestamp) -> float:
    t = isin(isin(ctx.table("revenue"), "plan", ctx.get("plan")), "region", ctx.get("region"))
    d_lo, d_hi = lo.tz_localize(None).date(), hi.tz_localize(None).date()
    t = t.filter((t.date >= d_lo) & (t.date < d_hi))
    return float(t.aggregate(v=total_revenue(t).sum()).to_pandas()["v"].fillna(0).iloc[0])


def _open_critical(ctx: Context, at: pd.Timestamp) -> float:
    t = ctx.table("production_issues")
    t = t.filter(
        (t.severity == "critical") & (t.created < at) & (t.resolved.isnull() | (t.resolved >= at))
    )
    return float(t.count().to_pandas())


def _health(ctx: Context, hi: pd.Timestamp) -> float:
    s = ctx.table("viewing_sessions")
    s = s.filter((s.start_time >= hi - pd.Timedelta(days=7)) & (s.start_time < hi))
    for col in ("region", "device"):
        s = isin(s, col, ctx.get(col))
    good = (
        ~s.video_start_failure
        & ~s.exit_before_video_start
        & (s.rebuffering_ratio < GOOD_PLAY_MAX_REBUFFERING)
    ).ifelse(1.0, 0.0)
    v = s.aggregate(v=good.mean()).to_pandas()["v"].iloc[0]
    return float(v) * 100 if v is not None and not pd.isna(v) else np.nan


def _values(ctx: Context, lo: pd.Timestamp, hi: pd.Timestamp) -> dict[str, float]:
    """Every KPI of :data:`opskit.metrics.KPIS` for the window ``[lo, hi)``."""
    compute: dict[str, Callable[[], float]] = {
        "revenue": lambda: _revenue(ctx, lo, hi),
        "open_critical_issues": lambda: _open_critical(ctx, hi),
        "streaming_health": lambda: _health(ctx, hi),
    }
    out = _subscribers(ctx, lo, hi)
    out.update({k: fn() for k, fn in compute.items()})
    return {k: out[k] for k in KPIS}


@dataset(
    "kpi_summary",
    KpiSummary,
    PLAN, REGION,
    Filter("device", "choices", "device type(s) (streaming health only)", ("subscribers", "primary_device"), dynamic=True),
    START, END,
    default_window="last 30 days vs the 30 days before",
)  # fmt: skip
def kpi_summary(ctx: Context) -> pd.DataFrame:
    """Headline KPIs, each as :mod:`opskit.metrics` defines it, with the previous window.

    Subscribers, monthly churn rate, revenue, MRR, monthly revenue at risk in the
    next 30 days, revenue lost to cancellations, open critical issues and the
    streaming health score. Each is computed for the window (default: the last 30
    days) and for the window of the same length before it. ``filters_ignored``
    names the requested filters a KPI does not obey (device applies to streaming
    health only; no filter applies to production issues).
    """
    lo, hi = ctx.window(30)
    span = hi - lo
    now, before = _values(ctx, lo, hi), _values(ctx, lo - span, lo)
    days = max(round(span / pd.Timedelta(days=1)), 1)
    requested = {k: ctx.get(k) for k in ("plan", "region", "device")}
    rows = []
    for key in KPIS:
        m = METRICS[key]
        rows.append(
            {
                "kpi": key, "label": m.label, "value": now[key], "previous": before[key],
                "unit": m.unit, "higher_is_better": m.higher_is_better,
                "window": m.window_phrase(days), "filters_ignored": ", ".join(m.ignored(requested)),
            }
        )  # fmt: skip
    df = pd.DataFrame(rows)
    df["change"] = df["value"] - df["previous"]
    df["window_start"] = lo
    df["window_end"] = hi
    return df
