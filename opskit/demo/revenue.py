"""Daily revenue by plan and region: recognised subscription revenue of the
subscribers active each day, advertising revenue on the ad-supported plan
(watch minutes x ad load x CPM, with a planted Q4 ad-market seasonality), and
transactional revenue (rentals and pay-per-view events) bought by active
subscribers, with a planted weekly cycle (weekends) and a yearly one (holidays).
The weekly and yearly multipliers are recorded in ``demo_truth``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.demo._common import PLAN_PRICE, PLANS, PRICE_INCREASE, REGIONS, Calendar
from opskit.demo.truth import Truth

CPM = {"us": 24.0, "canada": 18.0, "uk": 20.0, "germany": 17.0, "brazil": 7.0, "india": 3.5}
ADS_PER_MINUTE = 4 / 30
#: Rentals and pay-per-view bought per active subscriber per day, on average (USD).
TRANSACTIONAL_PER_SUB_DAY = 0.03
#: Mean price of one rental or pay-per-view event (USD).
TRANSACTION_PRICE = 4.99
#: Weekly cycle of transactional revenue, Monday first (mean 1).
WEEKDAY = (0.80, 0.76, 0.84, 0.92, 1.19, 1.36, 1.13)
#: Yearly cycle of transactional revenue by calendar month (holiday season).
TRANSACTION_SEASON = {1: 0.92, 2: 0.9, 3: 0.95, 4: 0.96, 5: 0.97, 6: 1.0, 7: 1.04, 8: 1.02,
                      9: 0.96, 10: 0.99, 11: 1.08, 12: 1.21}  # fmt: skip
#: Ad-market seasonality by calendar month (1 = January).
AD_SEASON = {1: 0.82, 2: 0.88, 3: 0.95, 4: 0.97, 5: 1.0, 6: 0.98, 7: 0.94, 8: 0.96, 9: 1.02,
             10: 1.08, 11: 1.22, 12: 1.34}  # fmt: skip


def revenue_table(
    rng: np.random.Generator,
    cal: Calendar,
    region: np.ndarray,
    intervals: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    sessions: list[pd.DataFrame],
    session_plans: list[np.ndarray],
    truth: Truth,
) -> pd.DataFrame:
    """One row per day, plan and region."""
    n_days = cal.days
    reg_code = pd.Categorical(region, categories=REGIONS).codes
    n_groups = len(PLANS) * len(REGIONS)
    active = np.zeros((n_groups, n_days + 1))
    for idx, lo, hi, plan in intervals:
        g = plan * len(REGIONS) + reg_code[idx]
        np.add.at(active, (g, np.floor(lo).astype(int)), 1)
        np.add.at(active, (g, np.minimum(np.floor(hi).astype(int), n_days)), -1)
    active = np.cumsum(active, axis=1)[:, :n_days]

    dates = pd.date_range(cal.start, periods=n_days, freq="D")
    days_in_month = dates.days_in_month.to_numpy()
    effective = cal.start + pd.DateOffset(months=PRICE_INCREASE.effective_month)
    price = np.empty((len(PLANS), n_days))
    for p, name in enumerate(PLANS):
        price[p] = PLAN_PRICE[name]
        if name == PRICE_INCREASE.plan:
            price[p, dates >= effective] = PRICE_INCREASE.new
    sub_rev = active * np.repeat(price, len(REGIONS), axis=0) / days_in_month

    ad = np.zeros((len(REGIONS), n_days))
    season = np.array([AD_SEASON[m] for m in dates.month])
    for s, plans in zip(sessions, session_plans, strict=True):
        on_ads = plans == PLANS.index("ad_supported")
        day = np.floor(s["start_time"].to_numpy()[on_ads]).astype(int)
        r = pd.Categorical(s["region"].to_numpy()[on_ads], categories=REGIONS).codes
        np.add.at(ad, (r, day), s["watch_minutes"].to_numpy()[on_ads])
    cpm = np.array([CPM[r] for r in REGIONS])[:, None]
    ad_rev = ad * ADS_PER_MINUTE * cpm / 1000 * season

    # Rentals and pay-per-view: Poisson purchases by active subscribers, weekly and yearly cycles.
    cycle = np.array(WEEKDAY)[dates.weekday] * np.array(
        [TRANSACTION_SEASON[m] for m in dates.month]
    )
    rate = active * TRANSACTIONAL_PER_SUB_DAY / TRANSACTION_PRICE * cycle[None, :]
    tx_rev = rng.poisson(rate) * TRANSACTION_PRICE

    for m, v in AD_SEASON.items():
        truth.add("revenue", "ad_cpm_seasonality", v, subject=f"month_{m:02d}", unit="multiplier")
    for d, v in zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), WEEKDAY, strict=True):
        truth.add("revenue", "transactional_weekday", v, subject=d, unit="multiplier",
                  detail="weekly cycle of rentals and pay-per-view revenue (mean 1)")  # fmt: skip
    for m, v in TRANSACTION_SEASON.items():
        truth.add(
            "revenue", "transactional_seasonality", v, subject=f"month_{m:02d}", unit="multiplier"
        )
    truth.add("revenue", "price_increase", PRICE_INCREASE.new - PRICE_INCREASE.old,
              subject=PRICE_INCREASE.plan, start=effective, unit="USD per month")  # fmt: skip

    plan_idx, reg_idx = np.divmod(np.arange(n_groups), len(REGIONS))
    out = pd.DataFrame(
        {
            "date": np.tile(dates.values, n_groups),
            "plan": np.repeat(np.asarray(PLANS, dtype=object)[plan_idx], n_days),
            "region": np.repeat(np.asarray(REGIONS, dtype=object)[reg_idx], n_days),
            "active_subscribers": active.reshape(-1).round().astype("int64"),
            "subscription_revenue_usd": sub_rev.reshape(-1).round(2),
            "ad_revenue_usd": np.where(
                np.repeat(plan_idx == PLANS.index("ad_supported"), n_days),
                ad_rev[reg_idx].reshape(-1),
                0.0,
            ).round(2),
            "transactional_revenue_usd": tx_rev.reshape(-1).round(2),
        }
    )
    out["date"] = (
        out["date"].dt.tz_convert("UTC") if out["date"].dt.tz else out["date"].dt.tz_localize("UTC")
    )
    return out.sort_values(["date", "plan", "region"], ignore_index=True)
