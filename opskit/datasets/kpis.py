"""Headline KPIs for the overview: each with its value, previous value and change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from opskit.datasets._registry import END, START, Context, Filter, dataset
from opskit.datasets._subscribers import subscriber_state
from opskit.datasets.business import PLAN, REGION
from opskit.datasets.ops import isin
from opskit.schemas import OpsFrame

#: A play is "good" when it started and stalled for less than this share of watch time.
GOOD_PLAY_MAX_REBUFFERING = 0.01


class KpiSummary(OpsFrame):
    """One row per KPI: this window's value, the previous window's, and the change."""

    kpi: Series[str] = pa.Field(unique=True)
    label: Series[str]
    value: Series[float] = pa.Field(nullable=True)
    previous: Series[float] = pa.Field(nullable=True)
    change: Series[float] = pa.Field(nullable=True, description="value - previous")
    unit: Series[str] = pa.Field(isin=["count", "usd", "fraction", "score"])
    higher_is_better: Series[bool]
    window_start: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "us", "tz": "UTC"})
    window_end: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "us", "tz": "UTC"})


def _subscriber_kpis(
    ctx: Context, lo: pd.Timestamp, hi: pd.Timestamp
) -> tuple[float, float, float]:
    st = isin(
        isin(subscriber_state(ctx, lo, hi), "plan", ctx.get("plan")), "region", ctx.get("region")
    )
    r = (
        st.aggregate(
            active=st.active_end.ifelse(1, 0).sum(),
            churned=st.churned.ifelse(1, 0).sum(),
            months=st.months_at_risk.sum(),
            mrr=st.active_end.ifelse(st.price_usd, 0.0).sum(),
        )
        .to_pandas()
        .iloc[0]
    )
    rate = float(r["churned"] / r["months"]) if r["months"] else np.nan
    return float(r["active"]), rate, float(r["mrr"])


def _revenue(ctx: Context, lo: pd.Timestamp, hi: pd.Timestamp) -> float:
    t = isin(isin(ctx.table("revenue"), "plan", ctx.get("plan")), "region", ctx.get("region"))
    d_lo, d_hi = lo.tz_localize(None).date(), hi.tz_localize(None).date()
    t = t.filter((t.date >= d_lo) & (t.date < d_hi))
    return float(
        t.aggregate(v=(t.subscription_revenue_usd + t.ad_revenue_usd).sum())
        .to_pandas()["v"]
        .fillna(0)
        .iloc[0]
    )


def _open_critical(ctx: Context, at: pd.Timestamp) -> float:
    t = ctx.table("production_issues")
    t = t.filter(
        (t.severity == "critical") & (t.created < at) & (t.resolved.isnull() | (t.resolved >= at))
    )
    return float(t.count().to_pandas())


def _health(ctx: Context, lo: pd.Timestamp, hi: pd.Timestamp) -> float:
    s = ctx.table("viewing_sessions")
    s = s.filter((s.start_time >= lo) & (s.start_time < hi))
    for col in ("region", "device"):
        s = isin(s, col, ctx.get(col))
    good = (
        ~s.video_start_failure
        & ~s.exit_before_video_start
        & (s.rebuffering_ratio < GOOD_PLAY_MAX_REBUFFERING)
    ).ifelse(1.0, 0.0)
    v = s.aggregate(v=good.mean()).to_pandas()["v"].iloc[0]
    return float(v) * 100 if v is not None and not pd.isna(v) else np.nan


@dataset(
    "kpi_summary",
    KpiSummary,
    PLAN, REGION,
    Filter("device", "choices", "device type(s) (streaming health only)", ("subscribers", "primary_device"), dynamic=True),
    START, END,
    default_window="last 30 days vs the 30 days before",
)  # fmt: skip
def kpi_summary(ctx: Context) -> pd.DataFrame:
    """Headline KPIs: subscribers, churn rate, revenue, MRR, open critical issues, streaming health.

    Each KPI is computed for the window (default: the last 30 days) and for the
    window of the same length before it. Streaming health is the share of plays
    (x100) that started and stalled for less than 1 % of watch time.
    """
    lo, hi = ctx.window(30)
    span = hi - lo
    p_lo, p_hi = lo - span, lo
    active, churn, mrr = _subscriber_kpis(ctx, lo, hi)
    p_active, p_churn, p_mrr = _subscriber_kpis(ctx, p_lo, p_hi)
    rows = [
        ("subscribers", "Active subscribers", active, p_active, "count", True),
        ("churn_rate", "Monthly churn rate", churn, p_churn, "fraction", False),
        ("revenue", "Revenue in the window", _revenue(ctx, lo, hi), _revenue(ctx, p_lo, p_hi), "usd", True),
        ("mrr", "Monthly recurring revenue", mrr, p_mrr, "usd", True),
        ("open_critical_issues", "Open critical issues", _open_critical(ctx, hi), _open_critical(ctx, p_hi), "count", False),
        ("streaming_health", "Streaming health score", _health(ctx, hi - pd.Timedelta(days=7), hi),
         _health(ctx, hi - pd.Timedelta(days=14), hi - pd.Timedelta(days=7)), "score", True),
    ]  # fmt: skip
    df = pd.DataFrame(
        rows, columns=["kpi", "label", "value", "previous", "unit", "higher_is_better"]
    )
    df["change"] = df["value"] - df["previous"]
    df["window_start"] = lo
    df["window_end"] = hi
    return df
