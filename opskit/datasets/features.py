"""Analytic feature datasets: model-ready frames computed in the warehouse.

``subscriber_months`` is the person-period frame behind the churn models of
:mod:`opskit.analytics.churn`: one row per subscriber and calendar month (UTC)
for everyone active when the month starts, with what was observable in the
*previous* month and whether they cancelled during the month. Everything is an
Ibis expression over the base tables, so it runs in the warehouse engine.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from opskit.datasets._expr import days_between
from opskit.datasets._registry import END, START, Context, Filter, dataset
from opskit.datasets.ops import isin
from opskit.errors import DatasetError
from opskit.schemas import UTC, OpsFrame, Timestamp

__all__ = ["SubscriberMonths", "subscriber_months"]

TS = "timestamp('UTC', 6)"
#: A plan price change counts as exposure for this many days after it took effect.
PRICE_EXPOSURE_DAYS = 90
#: Content gap: no release of the favourite genre in this many days before the month.
CONTENT_GAP_DAYS = 60

PLAN = Filter(
    "plan", "choices", "plan(s) at the month start", ("subscribers", "plan"), dynamic=True
)
REGION = Filter("region", "choices", "region(s)", ("subscribers", "region"), dynamic=True)


class SubscriberMonths(OpsFrame):
    """One row per (subscriber, month) for subscribers active at the month's start.

    Behaviour columns describe the *previous* calendar month (UTC); ``churned`` is
    the outcome in the row's month. ``rebuffering_pct`` is null when no session
    of the previous month started playing.
    """

    subscriber_id: Series[int] = pa.Field(ge=1)
    month: Timestamp = pa.Field(dtype_kwargs=UTC, description="first instant of the month (UTC)")
    plan: Series[str] = pa.Field(description="plan on the month's first day")
    region: Series[str]
    device: Series[str] = pa.Field(description="primary device")
    channel: Series[str] = pa.Field(description="acquisition channel")
    payment_method: Series[str]
    tenure_days: Series[float] = pa.Field(ge=0, description="days since signup at the month start")
    price_usd: Series[float] = pa.Field(
        ge=0, nullable=True, description="monthly price of the plan on the month's first day"
    )
    sessions: Series[int] = pa.Field(ge=0, description="playback attempts last month")
    watch_hours: Series[float] = pa.Field(ge=0, description="hours watched last month")
    rebuffering_pct: Series[float] = pa.Field(
        ge=0, le=100, nullable=True, description="mean session rebuffering ratio x 100 last month"
    )
    payment_failures: Series[int] = pa.Field(ge=0, description="failed payments last month")
    complaints: Series[int] = pa.Field(ge=0, description="complaint tickets opened last month")
    has_price_increase: Series[bool] = pa.Field(
        description=f"the plan's price changed in the {PRICE_EXPOSURE_DAYS} days up to the month"
    )
    has_content_gap: Series[bool] = pa.Field(
        description=f"no release in the favourite genre in the {CONTENT_GAP_DAYS} days before"
    )
    churned: Series[bool] = pa.Field(description="cancelled during the month")


def _months(ctx: Context) -> pd.DataFrame:
    """Months with a previous month of data (from the build's ``data_start`` or the first
    session), ending by the as-of time."""
    meta = ctx.warehouse.meta()
    if "data_start" in meta:
        first = pd.Timestamp(meta["data_start"])
    else:
        s = ctx.table("viewing_sessions")
        first = s.start_time.min().execute()
        if first is None or pd.isna(first):
            raise DatasetError("subscriber_months needs viewing_sessions, and the table is empty")
    first = pd.Timestamp(first).tz_convert("UTC")
    month0 = pd.Timestamp(year=first.year, month=first.month, day=1, tz="UTC")
    starts = pd.date_range(month0 + pd.DateOffset(months=1), ctx.as_of, freq="MS", tz="UTC")
    df = pd.DataFrame({"month": starts})
    df["prev_month"] = df["month"] - pd.DateOffset(months=1)
    df["next_month"] = df["month"] + pd.DateOffset(months=1)
    df = df[df["next_month"] <= ctx.as_of]
    lo, hi = ctx.get("start"), ctx.get("end")
    if lo is not None:
        df = df[df["month"] >= lo]
    if hi is not None:
        df = df[df["month"] < hi]
    if df.empty:
        raise DatasetError(
            "no complete month with a previous month of data in the window "
            f"(data from {first:%Y-%m-%d} to {ctx.as_of:%Y-%m-%d})"
        )
    return df.astype({c: "datetime64[us, UTC]" for c in df.columns}).reset_index(drop=True)


def _per_month(t: ibis.Table, time: str, months: ibis.Table, **aggs: ibis.Deferred) -> ibis.Table:
    """Aggregate ``t`` per subscriber over each month's *previous* month."""
    j = t.join(months, (t[time] >= months.prev_month) & (t[time] < months.month))
    return j.group_by(["subscriber_id", "month"]).aggregate(**aggs)


@dataset(
    "subscriber_months",
    SubscriberMonths,
    START, END, PLAN, REGION,
    default_window="every complete month with a previous month of data",
)  # fmt: skip
def subscriber_months(ctx: Context) -> pd.DataFrame:
    """Subscriber-months for churn modelling: last month's behaviour and this month's outcome.

    One row per subscriber active at the start of a calendar month (UTC), with the
    previous month's sessions, watch hours, mean rebuffering, failed payments and
    complaints, exposure to a plan price change (90 days) and to a content gap (no
    release in the favourite genre in the 60 days before), tenure, plan on the
    month's first day, region, device, channel and payment method; ``churned`` says
    whether they cancelled during the month; ``price_usd`` is the plan's monthly
    price on the month's first day. ``start``/``end`` select months.
    """
    mdf = _months(ctx)
    months = ibis.memtable(mdf).cast({c: TS for c in mdf.columns})
    day = ibis.interval(days=1)
    ev = ctx.table("subscriptions")
    cancel = (
        ev.filter(ev.event_type == "cancel")
        .group_by("subscriber_id")
        .aggregate(churned_at=lambda t: t.event_time.min())
    )
    subs = ctx.table("subscribers")
    subs = subs.select(
        "subscriber_id", "signup_at", "region", "payment_method", "favourite_genre",
        device=subs.primary_device, channel=subs.acquisition_channel,
    )  # fmt: skip
    subs = isin(subs, "region", ctx.get("region"))
    subs = subs.left_join(cancel, "subscriber_id").drop("subscriber_id_right")
    base = subs.cross_join(months)
    base = base.filter(
        (base.signup_at < base.month) & (base.churned_at.isnull() | (base.churned_at >= base.month))
    )
    keys = base.select("subscriber_id", "month")
    pe = ev.filter(ev.event_type.isin(["signup", "plan_change", "price_change"]))
    pj = keys.join(pe.select("subscriber_id", "event_time", "plan", "price_usd"), "subscriber_id")
    plans = (
        pj.filter(pj.event_time < pj.month + day)
        .group_by(["subscriber_id", "month"])
        .aggregate(
            plan=lambda t: t.plan.argmax(t.event_time),
            price_usd=lambda t: t.price_usd.argmax(t.event_time),
        )
    )
    s = ctx.table("viewing_sessions")
    sess = _per_month(
        s.select("subscriber_id", "start_time", "rebuffering_ratio", "watch_minutes"),
        "start_time", months,
        sessions=lambda t: t.count(),
        rebuffering_pct=lambda t: (t.rebuffering_ratio * 100.0).mean(),
        watch_hours=lambda t: t.watch_minutes.sum() / 60.0,
    )  # fmt: skip
    pay = _per_month(
        ev.filter(ev.event_type == "payment_failed").select("subscriber_id", "event_time"),
        "event_time", months, payment_failures=lambda t: t.count(),
    )  # fmt: skip
    c = ctx.table("complaints")
    comp = _per_month(
        c.select("subscriber_id", "created_at"), "created_at", months,
        complaints=lambda t: t.count(),
    )  # fmt: skip
    pc = ev.filter(ev.event_type == "price_change").select("plan", "event_time")
    pcj = pc.join(
        months,
        (pc.event_time < months.month + day)
        & (pc.event_time >= months.month - ibis.interval(days=PRICE_EXPOSURE_DAYS)),
    )
    price = pcj.group_by(["plan", "month"]).aggregate(_price_changes=lambda t: t.count())
    ct = ctx.table("content").select("genre", "release_date")
    cj = ct.join(
        months,
        (ct.release_date < months.month)
        & (ct.release_date >= months.month - ibis.interval(days=CONTENT_GAP_DAYS)),
    )
    releases = cj.group_by(["genre", "month"]).aggregate(_releases=lambda t: t.count())

    x = base.join(plans, ["subscriber_id", "month"])
    x = isin(x, "plan", ctx.get("plan"))
    for part in (sess, pay, comp):
        x = x.left_join(part, ["subscriber_id", "month"]).drop("subscriber_id_right", "month_right")
    x = x.left_join(price, ["plan", "month"]).drop("plan_right", "month_right")
    x = x.left_join(
        releases, (x.favourite_genre == releases.genre) & (x.month == releases.month)
    ).drop("genre", "month_right")
    out = x.select(
        "subscriber_id", "month", "plan", "region", "device", "channel", "payment_method",
        tenure_days=days_between(x.month, x.signup_at),
        price_usd=x.price_usd,
        sessions=x.sessions.fill_null(0),
        watch_hours=x.watch_hours.fill_null(0.0),
        rebuffering_pct=x.rebuffering_pct,
        payment_failures=x.payment_failures.fill_null(0),
        complaints=x.complaints.fill_null(0),
        has_price_increase=x._price_changes.fill_null(0) > 0,
        has_content_gap=x._releases.fill_null(0) == 0,
        churned=x.churned_at.notnull() & (x.churned_at < x.next_month),
    ).order_by(["month", "subscriber_id"])  # fmt: skip
    df = out.to_pandas()
    return df.astype({"tenure_days": "float64", "watch_hours": "float64", "price_usd": "float64"})
