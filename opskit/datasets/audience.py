"""Audience datasets: complaint themes, content performance, international markets."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from opskit import schemas
from opskit.datasets._expr import days_between, seconds_between, share
from opskit.datasets._registry import END, START, Context, Filter, dataset
from opskit.datasets._subscribers import MONTH_DAYS, subscriber_state
from opskit.datasets.business import REGION, total_revenue
from opskit.datasets.ops import isin
from opskit.metrics import SUBSCRIPTION_VALUE_MONTHS


def _pct_change(now: pd.Series, before: pd.Series) -> pd.Series:
    return ((now - before) / before.where(before > 0) * 100).astype("float64")


@dataset(
    "complaints_topics",
    schemas.ComplaintsTopics,
    START, END,
    Filter("channel", "choices", "ticket channel(s)", ("complaints", "channel"), dynamic=True),
    Filter("theme", "choices", "theme(s)", ("complaints", "category"), dynamic=True),
    Filter("min_tickets", "int", "drop themes with fewer tickets", minimum=0, maximum=10_000_000),
    default_window="last 30 days",
)  # fmt: skip
def complaints_topics(ctx: Context) -> pd.DataFrame:
    """Complaint themes with volume, trend vs the previous window, and churn link.

    Themes are the support agents' categories (topic models over the ticket
    text come with ``opskit.analytics.topics``). Complainants are followed for 30
    days after their first complaint on the theme in the window (censored at the
    data's as-of time): ``churn_rate_monthly`` is their cancellations per
    subscriber-month of follow-up, and ``churn_lift`` divides it by everyone's
    monthly churn rate in the window. Default window: the last 30 days.
    """
    lo, hi = ctx.window(30)
    span = hi - lo
    c = ctx.table("complaints")
    c = isin(isin(c, "channel", ctx.get("channel")), "category", ctx.get("theme"))
    now = c.filter((c.created_at >= lo) & (c.created_at < hi))
    prev = (
        c.filter((c.created_at >= lo - span) & (c.created_at < lo))
        .group_by("category")
        .aggregate(tickets_prev=lambda t: t.count())
    )
    st = subscriber_state(ctx, lo - pd.Timedelta(days=1), ctx.as_of)
    first = now.group_by(["category", "subscriber_id"]).aggregate(first=now.created_at.min())
    fj = first.left_join(st.select("subscriber_id", "churned_at", "price_usd"), "subscriber_id")
    # Follow each complainant for 30 days, censored at the data's as-of time.
    follow_end = ibis.least(fj.first + ibis.interval(days=30), ibis.literal(ctx.as_of))
    churn30 = fj.churned_at.notnull() & (fj.churned_at > fj.first) & (fj.churned_at <= follow_end)
    stop = ibis.least(fj.churned_at.fill_null(follow_end), follow_end)
    per_sub = fj.group_by("category").aggregate(
        churned_30d=churn30.ifelse(1, 0).sum(),
        _months=days_between(stop, fj.first).sum() / MONTH_DAYS,
        revenue_lost_annual_usd=churn30.ifelse(
            fj.price_usd.fill_null(0.0) * SUBSCRIPTION_VALUE_MONTHS, 0.0
        ).sum(),
    )
    hours = seconds_between(now.resolved_at, now.created_at) / 3600.0
    agg = now.group_by("category").aggregate(
        tickets=now.count(),
        complainants=now.subscriber_id.nunique(),
        median_resolution_h=hours.quantile(0.5),
        sample_ticket=now.text.argmin(now.ticket_id),
    )
    df = (
        agg.left_join(prev, "category").drop("category_right")
        .left_join(per_sub, "category").drop("category_right")
        .to_pandas()
    )  # fmt: skip
    base = subscriber_state(ctx, lo, hi)
    b = (
        base.aggregate(churned=base.churned.ifelse(1, 0).sum(), months=base.months_at_risk.sum())
        .to_pandas()
        .iloc[0]
    )
    base_rate = b["churned"] / b["months"] if b["months"] else np.nan
    df = df.rename(columns={"category": "theme"})
    df["tickets_prev"] = df["tickets_prev"].fillna(0).astype("int64")
    df["churned_30d"] = df["churned_30d"].fillna(0).astype("int64")
    df["revenue_lost_annual_usd"] = df["revenue_lost_annual_usd"].fillna(0.0)
    df["share"] = df["tickets"] / df["tickets"].sum() if len(df) else 0.0
    df["trend_pct"] = _pct_change(df["tickets"], df["tickets_prev"])
    months = df.pop("_months").fillna(0.0)
    df["churn_rate_monthly"] = (df["churned_30d"] / months.where(months > 0)).fillna(0.0).clip(0, 1)
    df["churn_lift"] = df["churn_rate_monthly"] / base_rate if base_rate > 0 else np.nan
    df = df[df["tickets"] >= ctx.get("min_tickets", 0)]
    return df.sort_values(["tickets", "theme"], ascending=[False, True], ignore_index=True)


@dataset(
    "content_catalog",
    schemas.ContentCatalog,
    Filter("genre", "choices", "genre(s)", ("content", "genre"), dynamic=True),
    Filter("tier", "choices", "flagship or catalog", ("content", "tier"), dynamic=True),
    START, END,
    default_window="last 30 days",
)  # fmt: skip
def content_catalog(ctx: Context) -> pd.DataFrame:
    """Titles with viewing in the window, trend, cost per viewing hour and viewer retention.

    ``viewer_retention`` is the share of the window's viewers still subscribed at
    its end; ``cost_per_hour_usd`` divides the cost by all hours ever watched.
    Default window: the last 30 days.
    """
    lo, hi = ctx.window(30)
    span = hi - lo
    content = isin(isin(ctx.table("content"), "genre", ctx.get("genre")), "tier", ctx.get("tier"))
    s = ctx.table("viewing_sessions")
    s = s.filter((s.start_time >= lo) & (s.start_time < hi))
    view = s.group_by("content_id").aggregate(
        viewing_hours=s.watch_minutes.sum() / 60.0,
        plays=s.count(),
        viewers=s.subscriber_id.nunique(),
    )
    cd = ctx.table("content_daily")
    d_lo, d_hi, d_prev = (
        lo.tz_localize(None).date(),
        hi.tz_localize(None).date(),
        (lo - span).tz_localize(None).date(),
    )
    prev = (
        cd.filter((cd.date >= d_prev) & (cd.date < d_lo))
        .group_by("content_id")
        .aggregate(hours_prev=cd.viewing_hours.sum())
    )
    life = cd.filter(cd.date < d_hi).group_by("content_id").aggregate(_life=cd.viewing_hours.sum())
    st = subscriber_state(ctx, lo, hi)
    pairs = s.select("content_id", "subscriber_id").distinct()
    pj = pairs.join(st.select("subscriber_id", "active_end"), "subscriber_id")
    ret = pj.group_by("content_id").aggregate(
        viewer_retention=pj.active_end.ifelse(1.0, 0.0).mean()
    )
    t = content
    for other in (view, prev, life, ret):
        t = t.left_join(other, "content_id").drop("content_id_right")
    df = t.to_pandas()
    for col in ("viewing_hours", "hours_prev"):
        df[col] = df[col].fillna(0.0)
    for col in ("plays", "viewers"):
        df[col] = df[col].fillna(0).astype("int64")
    df["viewer_retention"] = df["viewer_retention"].fillna(0.0)
    df["trend_pct"] = _pct_change(df["viewing_hours"], df["hours_prev"])
    df["cost_per_hour_usd"] = df["production_cost_usd"] / df.pop("_life").where(lambda v: v > 0)
    return df.sort_values(
        ["viewing_hours", "content_id"], ascending=[False, True], ignore_index=True
    )


@dataset(
    "international_markets",
    schemas.InternationalMarkets,
    REGION, START, END,
    default_window="last 30 days",
)  # fmt: skip
def international_markets(ctx: Context) -> pd.DataFrame:
    """Per region: subscribers, net adds, churn, revenue and growth, ARPU, engagement, QoE.

    Default window: the last 30 days (growth compares with the 30 days before).
    """
    lo, hi = ctx.window(30)
    span = hi - lo
    st = isin(subscriber_state(ctx, lo, hi), "region", ctx.get("region"))
    subs = st.group_by("region").aggregate(
        subscribers=st.active_end.ifelse(1, 0).sum(),
        _adds=(st.signup_at >= lo).ifelse(1, 0).sum(),
        _churned=st.churned.ifelse(1, 0).sum(),
        _months=st.months_at_risk.sum(),
    )
    r = isin(ctx.table("revenue"), "region", ctx.get("region"))
    d_lo, d_hi, d_prev = (
        lo.tz_localize(None).date(),
        hi.tz_localize(None).date(),
        (lo - span).tz_localize(None).date(),
    )
    total = total_revenue(r)
    rev = r.group_by("region").aggregate(
        revenue_usd=((r.date >= d_lo) & (r.date < d_hi)).ifelse(total, 0.0).sum(),
        revenue_prev_usd=((r.date >= d_prev) & (r.date < d_lo)).ifelse(total, 0.0).sum(),
    )
    s = isin(ctx.table("viewing_sessions"), "region", ctx.get("region"))
    s = s.filter((s.start_time >= lo) & (s.start_time < hi))
    started = s.rebuffering_ratio.notnull()
    qoe = s.group_by("region").aggregate(
        _hours=s.watch_minutes.sum() / 60.0,
        _stall=(s.rebuffering_ratio * s.watch_minutes).sum(),
        _watch=started.ifelse(s.watch_minutes, 0.0).sum(),
        video_start_failure_rate=share(s.video_start_failure),
    )
    content = ctx.table("content").select("content_id", "genre")
    sg = s.join(content, "content_id")
    genre = sg.group_by(["region", "genre"]).aggregate(h=sg.watch_minutes.sum()).to_pandas()
    top = genre.sort_values(
        ["region", "h", "genre"], ascending=[True, False, True]
    ).drop_duplicates("region")
    df = (
        subs.left_join(rev, "region").drop("region_right")
        .left_join(qoe, "region").drop("region_right")
        .to_pandas()
    )  # fmt: skip
    df = df.merge(
        top[["region", "genre"]].rename(columns={"genre": "top_genre"}), on="region", how="left"
    )
    months = span / pd.Timedelta(days=MONTH_DAYS)
    df["net_adds"] = (df.pop("_adds") - df["_churned"]).astype("int64")
    df["churn_rate_monthly"] = (
        df.pop("_churned") / df.pop("_months").where(lambda v: v > 0)
    ).fillna(0.0)
    df["revenue_growth_pct"] = _pct_change(df["revenue_usd"], df["revenue_prev_usd"])
    df["arpu_usd"] = df["revenue_usd"] / months / df["subscribers"].where(df["subscribers"] > 0)
    df["hours_per_subscriber"] = df.pop("_hours") / df["subscribers"].where(df["subscribers"] > 0)
    df["rebuffering_ratio"] = (df.pop("_stall") / df.pop("_watch").where(lambda v: v > 0)).fillna(
        0.0
    )
    for col in ("revenue_usd", "revenue_prev_usd", "video_start_failure_rate"):
        df[col] = df[col].fillna(0.0)
    return df.sort_values(["revenue_usd", "region"], ascending=[False, True], ignore_index=True)
