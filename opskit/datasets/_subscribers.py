"""Shared Ibis building blocks about subscribers: state at a time, churn, signals."""

from __future__ import annotations

import ibis
import pandas as pd

from opskit.datasets._expr import days_between
from opskit.datasets._registry import Context

MONTH_DAYS = 30.4375
HIGH_REBUFFERING = 0.02  # a mean rebuffering ratio above 2 % counts as "high"


def latest_plan(ctx: Context, at: pd.Timestamp) -> ibis.Table:
    """``subscriber_id, plan, price_usd, churned_at`` from the events before ``at``.

    Plan and price come from each subscriber's latest event (``arg_max``, a single
    aggregation, cheaper than a window); ``churned_at`` is the first cancellation.
    """
    e = ctx.table("subscriptions")
    e = e.filter(e.event_time < at)
    return e.group_by("subscriber_id").aggregate(
        plan=e.plan.argmax(e.event_time),
        price_usd=e.price_usd.argmax(e.event_time),
        churned_at=(e.event_type == "cancel")
        .ifelse(e.event_time, ibis.null("timestamp('UTC', 6)"))
        .min(),
    )


def subscriber_state(ctx: Context, lo: pd.Timestamp, hi: pd.Timestamp) -> ibis.Table:
    """One row per subscriber present in ``[lo, hi)``.

    Columns: the ``subscribers`` attributes, ``plan``/``price_usd`` as of ``hi``,
    ``churned_at`` (first cancel before ``hi``), ``churned`` (cancelled in the
    window), ``at_start`` (active at ``lo``), ``active_end`` (active at ``hi``),
    ``ref`` (cancel time or ``hi``: the moment exposures are measured back from),
    ``months_at_risk`` (subscriber-months inside the window) and ``tenure_days``.
    """
    s = ctx.table("subscribers").drop("plan")
    s = s.join(latest_plan(ctx, hi), "subscriber_id")
    s = s.filter((s.signup_at < hi) & (s.churned_at.isnull() | (s.churned_at >= lo)))
    hi_lit, lo_lit = ibis.literal(hi), ibis.literal(lo)
    end = ibis.least(s.churned_at.fill_null(hi_lit), hi_lit)
    begin = ibis.greatest(s.signup_at, lo_lit)
    return s.mutate(
        churned=s.churned_at.notnull(),
        at_start=s.signup_at < lo_lit,
        active_end=s.churned_at.isnull(),
        ref=end,
        months_at_risk=ibis.greatest(days_between(end, begin), 0.0) / MONTH_DAYS,
        tenure_days=days_between(end, s.signup_at),
    )


def tenure_band(days: ibis.Value) -> ibis.Value:
    return ibis.cases((days < 91, "0-3m"), (days < 365, "3-12m"), (days < 730, "1-2y"), else_="2y+")


def exposures(
    ctx: Context, state: ibis.Table, lo: pd.Timestamp, hi: pd.Timestamp, lookback_days: float = 30.0
) -> ibis.Table:
    """Per-subscriber churn-driver exposures in the ``lookback_days`` before ``ref``.

    ``[lo, hi)`` is the window ``state`` was built for (used to prune scans).
    Adds boolean columns ``high_rebuffering``, ``payment_failure``,
    ``complaint_contact``, ``low_engagement`` (no viewing), ``price_increase``
    (a price rise in the 90 days before), ``content_gap`` (no release in the
    favourite genre in the 60 days before) and the session mean ``rebuffering``.
    """
    lb = ibis.interval(seconds=int(lookback_days * 86_400))
    keys = state.select("subscriber_id", "ref")
    first = lo - pd.Timedelta(days=max(lookback_days, 90))
    sess = ctx.table("viewing_sessions")
    sess = sess.filter((sess.start_time >= first) & (sess.start_time < hi)).select(
        "subscriber_id", "start_time", "rebuffering_ratio"
    )
    js = sess.join(keys, "subscriber_id")
    js = js.filter((js.start_time < js.ref) & (js.start_time >= js.ref - lb))
    sagg = js.group_by("subscriber_id").aggregate(
        rebuffering=js.rebuffering_ratio.mean(), _sessions=js.count()
    )
    ev = ctx.table("subscriptions")
    ev = ev.filter(
        ev.event_type.isin(["payment_failed", "price_change"])
        & (ev.event_time >= first)
        & (ev.event_time < hi)
    )
    je = ev.join(keys, "subscriber_id")
    je = je.filter(je.event_time < je.ref)
    eagg = je.group_by("subscriber_id").aggregate(
        _pay=((je.event_type == "payment_failed") & (je.event_time >= je.ref - lb))
        .ifelse(1, 0)
        .sum(),
        _price=(
            (je.event_type == "price_change") & (je.event_time >= je.ref - ibis.interval(days=90))
        )
        .ifelse(1, 0)
        .sum(),
    )
    c = ctx.table("complaints")
    c = c.filter((c.created_at >= first) & (c.created_at < hi)).select(
        "subscriber_id", "created_at"
    )
    jc = c.join(keys, "subscriber_id")
    jc = jc.filter((jc.created_at < jc.ref) & (jc.created_at >= jc.ref - lb))
    cagg = jc.group_by("subscriber_id").aggregate(_complaints=jc.count())
    content = ctx.table("content").select("genre", "release_date")
    content = content.filter(
        (content.release_date >= first - pd.Timedelta(days=60)) & (content.release_date < hi)
    )
    fav = state.select("subscriber_id", "ref", "favourite_genre")
    jg = fav.join(content, fav.favourite_genre == content.genre)
    jg = jg.filter(
        (jg.release_date < jg.ref) & (jg.release_date >= jg.ref - ibis.interval(days=60))
    )
    gagg = jg.group_by("subscriber_id").aggregate(_releases=jg.count())
    out = (
        state.left_join(sagg, "subscriber_id").drop("subscriber_id_right")
        .left_join(gagg, "subscriber_id").drop("subscriber_id_right")
        .left_join(eagg, "subscriber_id").drop("subscriber_id_right")
        .left_join(cagg, "subscriber_id").drop("subscriber_id_right")
    )  # fmt: skip
    return out.mutate(
        high_rebuffering=out.rebuffering.fill_null(0.0) > HIGH_REBUFFERING,
        payment_failure=out._pay.fill_null(0) > 0,
        complaint_contact=out._complaints.fill_null(0) > 0,
        low_engagement=out._sessions.fill_null(0) == 0,
        price_increase=out._price.fill_null(0) > 0,
        content_gap=out._releases.fill_null(0) == 0,
    ).drop("_pay", "_price", "_complaints", "_sessions", "_releases")
