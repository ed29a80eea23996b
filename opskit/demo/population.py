"""Subscribers, their subscription events, sessions, payment failures, complaints
and retention campaigns, simulated month by month.

The churn process is a discrete-time proportional-hazards model. In month ``m`` an
active subscriber cancels with probability ``1 - exp(-h)``, where

``h = h0 * exp(sum_k beta_k * x_k)`` and the drivers ``x_k`` are all *observable in
the warehouse* from month ``m - 1`` (or from events at the start of month ``m``):

=================  ===========================================================
driver             observable as
=================  ===========================================================
rebuffering_pct    mean ``rebuffering_ratio`` x 100 of last month's sessions
inactive           no session last month
payment_failed     a ``payment_failed`` event last month
complaint          a complaint ticket last month
price_increase     on the plan whose price rose, within 90 days of the rise
content_gap        no release of the favourite genre in the 60 days before
new_tenure         signed up less than 90 days before the month starts
plan_annual        on the annual plan
plan_ad_supported  on the ad-supported plan
=================  ===========================================================

The betas are recorded in ``demo_truth`` (``kind = 'churn_driver'``), as is the AUC
of the planted probabilities on the last month (the holdout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from opskit.demo._common import (
    CHANNEL_SHARE,
    CHANNELS,
    DEVICE_SHARE,
    DEVICES,
    GENRE_SHARE,
    GENRES,
    ISPS,
    MONTHS,
    PAYMENT_FAIL,
    PAYMENT_METHODS,
    PAYMENT_SHARE,
    PLAN_PRICE,
    PLAN_SHARE,
    PLANS,
    PRICE_INCREASE,
    REGION_REBUFFER,
    REGION_SHARE,
    REGIONS,
    Calendar,
)
from opskit.demo.sessions import SessionGenerator
from opskit.demo.truth import Truth

BETA = {
    "rebuffering_pct": 0.30,
    "inactive": 0.85,
    "payment_failed": 1.00,
    "complaint": 0.65,
    "price_increase": 0.55,
    "content_gap": 0.45,
    "new_tenure": 0.45,
    "plan_annual": -1.30,
    "plan_ad_supported": 0.25,
}
BASE_HAZARD = 0.021
COMPLAINT_CATEGORIES = (
    "playback_buffering", "billing_payment", "price", "login_account", "content_library",
    "app_crash", "ads", "subtitles_audio", "casting_device", "customer_service",
)  # fmt: skip

#: Retention campaigns: (start month, name, segment rule, true log hazard ratio, cost per contact).
CAMPAIGNS = (
    (2, "Winback offer: inactive viewers", "inactive", -0.35, 1.8),
    (4, "Payment update nudge", "payment_failed", -0.55, 0.6),
    (5, "Ad-free loyalty discount", "plan_ad_free", -0.25, 3.5),
    (7, "Streaming quality apology credit", "rebuffering_high", -0.30, 2.5),
    (8, "New-member onboarding series", "new_tenure", 0.0, 0.9),
    (9, "Brazil re-engagement push", "region_brazil", -0.20, 1.2),
)
TREATED_SHARE = 0.8
#: The ``revenue_impact`` drivers (its exposure definitions) as planted drivers and the level
#: an exposure is measured above: high rebuffering is a mean above 2 % (the dataset's
#: ``HIGH_REBUFFERING``), the others are flags.
ATTRIBUTION = {
    "high_rebuffering": ("rebuffering_pct", 2.0),
    "payment_failure": ("payment_failed", 0.0),
    "complaint_contact": ("complaint", 0.0),
    "low_engagement": ("inactive", 0.0),
    "price_increase": ("price_increase", 0.0),
    "content_gap": ("content_gap", 0.0),
}
#: Months at the end of the year over which the true driver losses are averaged
#: (the ``revenue_impact`` default window is the last 90 days).
TRUTH_MONTHS = 3
#: A lost subscription's value in months of its price (``opskit.metrics.SUBSCRIPTION_VALUE_MONTHS``).
VALUE_MONTHS = 12


@dataclass
class Population:
    """Everything the month-by-month simulation produced."""

    subscribers: pd.DataFrame
    events: pd.DataFrame
    sessions: list[pd.DataFrame]
    session_plans: list[np.ndarray]
    complaints: pd.DataFrame
    campaigns: pd.DataFrame
    assignments: pd.DataFrame
    intervals: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=list
    )


@dataclass(frozen=True)
class _OpenCampaign:
    campaign_id: str
    members: np.ndarray  # subscriber indices, sorted
    treated: np.ndarray  # boolean mask over members
    effect: float  # true log hazard ratio of treatment
    start: int  # month index


def _hazard(x: dict[str, np.ndarray], treat: np.ndarray) -> np.ndarray:
    lin = np.sum([BETA[k] * x[k] for k in BETA], axis=0)
    out: np.ndarray = BASE_HAZARD * np.exp(lin + treat)
    return out


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    """ROC AUC by ranks (ties get average ranks)."""
    order = pd.Series(score).rank(method="average").to_numpy()
    pos = label.astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((order[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def simulate(
    rng: np.random.Generator,
    cal: Calendar,
    scale: float,
    content: pd.DataFrame,
    droughts: dict[str, np.ndarray],
    sessions_gen_factory: object,
    truth: Truth,
    tick: Callable[[], object] | None = None,
) -> Population:
    """Run the simulation; ``sessions_gen_factory(attrs) -> SessionGenerator``.

    ``tick`` is called once per simulated month (a progress bar).
    """
    bounds = cal.month_bounds()
    n0 = max(500, round(185_000 * scale))
    new_per_month = rng.poisson(n0 * 0.047, MONTHS)
    n = n0 + int(new_per_month.sum())

    # ---- static attributes -------------------------------------------------
    signup = np.empty(n, dtype="float64")
    signup[:n0] = -rng.exponential(420.0, n0) - rng.random(n0)  # tenure before the year
    pos = n0
    for m, k in enumerate(new_per_month):
        a, b = bounds[m]
        signup[pos : pos + k] = a + rng.random(k) * (b - a)
        pos += k
    region = np.asarray(REGIONS, dtype=object)[rng.choice(len(REGIONS), n, p=REGION_SHARE)]
    isp = np.empty(n, dtype=object)
    isp_factor: dict[str, float] = {}
    for r in REGIONS:
        rows = np.flatnonzero(region == r)
        names = ISPS[r]
        isp[rows] = np.asarray(names, dtype=object)[rng.choice(len(names), len(rows))]
        for name in names:
            isp_factor[name] = float(np.exp(rng.normal(0, 0.3)))
    quality = (
        np.array([REGION_REBUFFER[r] for r in region])
        * np.array([isp_factor[i] for i in isp])
        * rng.lognormal(0, 0.55, n)
    )
    device = rng.choice(len(DEVICES), n, p=DEVICE_SHARE)
    genre = rng.choice(len(GENRES), n, p=GENRE_SHARE)
    plan = rng.choice(len(PLANS), n, p=PLAN_SHARE)
    channel = np.asarray(CHANNELS, dtype=object)[rng.choice(len(CHANNELS), n, p=CHANNEL_SHARE)]
    pay_method = np.asarray(PAYMENT_METHODS, dtype=object)[
        rng.choice(len(PAYMENT_METHODS), n, p=PAYMENT_SHARE)
    ]
    pay_risk = np.array([PAYMENT_FAIL[p] for p in pay_method]) * rng.lognormal(0, 0.5, n)
    engagement = rng.gamma(2.0, 1.2, n)
    gen: SessionGenerator = sessions_gen_factory(  # type: ignore[operator]
        device=device, region=region, isp=isp, quality=quality, genre=genre
    )

    churn_day = np.full(n, np.inf)
    events: list[pd.DataFrame] = []
    complaints: list[pd.DataFrame] = []
    sessions: list[pd.DataFrame] = []
    session_plans: list[np.ndarray] = []
    intervals: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    campaigns: list[dict[str, object]] = []
    assignments: list[pd.DataFrame] = []
    open_campaigns: list[_OpenCampaign] = []

    events.append(_events(np.arange(n), signup, "signup", plan, detail=channel))

    # Warm-up features for month 0 (the month before the year, not stored).
    cnt = rng.poisson(engagement)
    prev = {
        "rebuffering_pct": np.where(
            cnt > 0, quality * rng.gamma(np.maximum(cnt, 1), 1.0) / np.maximum(cnt, 1), 0.0
        ),
        "inactive": (cnt == 0).astype(float),
        "payment_failed": (rng.random(n) < pay_risk).astype(float),
        "complaint": (rng.random(n) < 0.03).astype(float),
    }
    price_plan = PLANS.index(PRICE_INCREASE.plan)
    holdout = {}
    driver_loss = dict.fromkeys(ATTRIBUTION, 0.0)
    list_price = np.array([PLAN_PRICE[p] for p in PLANS])
    for m, (a, b) in enumerate(bounds):
        active = (signup < a) & (churn_day >= a)
        idx = np.flatnonzero(active)
        # -- plan changes at the month start (not in month 0) --
        if m > 0:
            movers = idx[(rng.random(len(idx)) < 0.009) & (plan[idx] != PLANS.index("annual"))]
            to_annual = rng.random(len(movers)) < 0.25
            plan[movers] = np.where(to_annual, PLANS.index("annual"), 1 - plan[movers])
            events.append(_events(movers, np.full(len(movers), a + 0.01), "plan_change", plan))
        if m == PRICE_INCREASE.effective_month:
            hit = idx[plan[idx] == price_plan]
            events.append(
                _events(
                    hit,
                    np.full(len(hit), a + 0.0),
                    "price_change",
                    plan,
                    price=PRICE_INCREASE.new,
                )
            )
        x = {
            "rebuffering_pct": np.minimum(prev["rebuffering_pct"][idx], 10.0),
            "inactive": prev["inactive"][idx],
            "payment_failed": prev["payment_failed"][idx],
            "complaint": prev["complaint"][idx],
            "price_increase": ((plan[idx] == price_plan) & PRICE_INCREASE.exposed(m)).astype(float),
            "content_gap": np.array([droughts[GENRES[g]][m] for g in range(len(GENRES))])[
                genre[idx]
            ].astype(float),
            "new_tenure": ((a - signup[idx]) < 90).astype(float),
            "plan_annual": (plan[idx] == PLANS.index("annual")).astype(float),
            "plan_ad_supported": (plan[idx] == PLANS.index("ad_supported")).astype(float),
        }
        # -- campaigns starting this month --
        for start, name, rule, effect, cost in CAMPAIGNS:
            if start != m:
                continue
            elig = _segment(rule, x, region[idx])
            members = idx[elig]
            treated = rng.random(len(members)) < TREATED_SHARE
            cid = f"CMP-{len(campaigns) + 1:03d}"
            campaigns.append(
                {
                    "campaign_id": cid,
                    "name": name,
                    "segment": rule,
                    "start_date": cal.start + pd.Timedelta(days=a),
                    "end_date": cal.start
                    + pd.Timedelta(days=bounds[min(m + 1, MONTHS - 1)][1] - 1),
                    "budget_usd": round(float(treated.sum()) * cost * 1.1, 2),
                    "channel": ("email", "push", "in_app", "email", "email", "sms")[
                        len(campaigns) % 6
                    ],
                    "cost_per_contact_usd": cost,
                }
            )
            assignments.append(
                pd.DataFrame(
                    {
                        "campaign_id": cid,
                        "subscriber_id": members + 1,
                        "group": np.where(treated, "treatment", "control"),
                    }
                )
            )
            open_campaigns.append(_OpenCampaign(cid, members, treated, effect, m))
        treat_idx = np.zeros(n)
        for c in open_campaigns:
            if c.start <= m <= c.start + 1:
                treat_idx[c.members[c.treated]] += c.effect
        h = _hazard(x, treat_idx[idx])
        for c in open_campaigns:
            if c.start == m:
                # True uplift: expected difference in 2-month retention, treating each
                # member's hazard this month as its hazard for both months.
                h1 = _hazard(x, np.zeros(len(idx)))[np.searchsorted(idx, c.members)]
                p0 = np.exp(-2 * h1)
                p1 = np.exp(-2 * h1 * np.exp(c.effect))
                truth.add(
                    "campaign_uplift", "retention_uplift_2m", float(np.mean(p1 - p0)),
                    subject=c.campaign_id, unit="fraction", detail=f"log_hr={c.effect}",
                )  # fmt: skip
        p = 1.0 - np.exp(-h)
        if m >= MONTHS - TRUTH_MONTHS:
            _add_driver_losses(driver_loss, x, h, p, m, list_price, plan[idx], price_plan)
        churn = rng.random(len(idx)) < p
        if m == MONTHS - 1:
            holdout = {"auc": _auc(p, churn), "n": len(idx), "rate": float(churn.mean())}
        churn_day[idx[churn]] = a + rng.random(int(churn.sum())) * (b - a)
        events.append(_events(idx[churn], churn_day[idx[churn]], "cancel", plan))

        # -- activity during the month --
        alive = np.flatnonzero((signup < b) & (churn_day >= a) & (signup < churn_day))
        lo = np.maximum(signup[alive], a)
        hi = np.minimum(churn_day[alive], b)
        keep = hi > lo
        alive, lo, hi = alive[keep], lo[keep], hi[keep]
        frac = (hi - lo) / (b - a)
        counts = rng.poisson(engagement[alive] * frac)
        month_sessions = gen.month(alive, lo, hi, counts, a)
        sessions.append(month_sessions)
        session_plans.append(plan[month_sessions["subscriber_id"].to_numpy()])
        intervals.append((alive, lo, hi, plan[alive].copy()))

        sub = month_sessions["subscriber_id"].to_numpy()
        started = ~np.isnan(month_sessions["rebuffering_ratio"].to_numpy())
        n_sess = np.bincount(sub, minlength=n)
        reb_sum = np.bincount(
            sub[started],
            weights=month_sessions["rebuffering_ratio"].to_numpy()[started],
            minlength=n,
        )
        reb_n = np.bincount(sub[started], minlength=n)
        reb_pct = np.where(reb_n > 0, 100.0 * reb_sum / np.maximum(reb_n, 1), 0.0)
        payfail = np.zeros(n, dtype=bool)
        payfail[alive] = (rng.random(len(alive)) < pay_risk[alive] * frac) & (
            plan[alive] != PLANS.index("annual")
        )
        pf = np.flatnonzero(payfail)
        pf_pos = np.searchsorted(alive, pf)
        events.append(
            _events(
                pf,
                lo[pf_pos] + rng.random(len(pf)) * (hi[pf_pos] - lo[pf_pos]),
                "payment_failed",
                plan,
            )
        )

        price_exposed = (plan == price_plan) & (PRICE_INCREASE.exposed(m))
        logit = -4.1 + 0.35 * np.minimum(reb_pct, 10) + 1.6 * payfail + 0.9 * price_exposed
        comp = np.zeros(n, dtype=bool)
        comp[alive] = rng.random(len(alive)) < frac / (1 + np.exp(-logit[alive]))
        cidx = np.flatnonzero(comp)
        c_pos = np.searchsorted(alive, cidx)
        gap_now = np.array([droughts[GENRES[g]][m] for g in range(len(GENRES))])[genre[cidx]]
        complaints.append(
            pd.DataFrame(
                {
                    "subscriber_idx": cidx,
                    "day": lo[c_pos] + rng.random(len(cidx)) * (hi[c_pos] - lo[c_pos]),
                    "category": _complaint_category(
                        rng,
                        reb_pct[cidx],
                        payfail[cidx],
                        price_exposed[cidx],
                        gap_now,
                        plan[cidx] == PLANS.index("ad_supported"),
                    ),
                    "device": np.asarray(DEVICES, dtype=object)[device[cidx]],
                    "rebuffering_pct": reb_pct[cidx],
                }
            )
        )
        prev = {
            "rebuffering_pct": reb_pct,
            "inactive": (n_sess == 0).astype(float),
            "payment_failed": payfail.astype(float),
            "complaint": comp.astype(float),
        }
        open_campaigns = [c for c in open_campaigns if c.start + 1 > m]
        if tick is not None:
            tick()

    for k, v in BETA.items():
        truth.add("churn_driver", k, v, unit="log hazard ratio per unit")
    truth.add("churn_model", "base_hazard_monthly", BASE_HAZARD, unit="per month")
    truth.add("churn_model", "holdout_auc", holdout["auc"], subject="last_month",
              detail="AUC of the planted churn probabilities for subscribers active at the start of the last month")  # fmt: skip
    truth.add(
        "churn_model", "holdout_churn_rate", holdout["rate"], subject="last_month", unit="fraction"
    )
    truth.add("churn_model", "holdout_subscribers", holdout["n"], subject="last_month")
    for driver, loss in driver_loss.items():
        truth.add(
            "initiative_driver", "revenue_lost_per_month_usd", loss / TRUTH_MONTHS, subject=driver,
            unit="USD per month", detail=f"expected cancellations caused by the driver in the last "
            f"{TRUTH_MONTHS} months x {VALUE_MONTHS} months of their price, per month",
        )  # fmt: skip

    subs = pd.DataFrame(
        {
            "subscriber_id": np.arange(1, n + 1, dtype="int64"),
            "signup_at": cal.to_time(signup),
            "plan": np.asarray(PLANS, dtype=object)[plan],
            "region": region,
            "isp": isp,
            "primary_device": np.asarray(DEVICES, dtype=object)[device],
            "acquisition_channel": channel,
            "payment_method": pay_method,
            "favourite_genre": np.asarray(GENRES, dtype=object)[genre],
        }
    )
    ev = pd.concat(events, ignore_index=True)
    ev = ev.sort_values(
        ["event_day", "subscriber_id", "event_type"], kind="stable", ignore_index=True
    )
    ev["event_time"] = cal.to_time(ev.pop("event_day").to_numpy())
    return Population(
        subscribers=subs,
        events=ev[["subscriber_id", "event_time", "event_type", "plan", "price_usd", "detail"]],
        sessions=sessions,
        session_plans=session_plans,
        complaints=pd.concat(complaints, ignore_index=True),
        campaigns=pd.DataFrame(campaigns),
        assignments=pd.concat(assignments, ignore_index=True),
        intervals=intervals,
    )


def _add_driver_losses(
    loss: dict[str, float],
    x: dict[str, np.ndarray],
    h: np.ndarray,
    p: np.ndarray,
    month: int,
    list_price: np.ndarray,
    plan: np.ndarray,
    price_plan: int,
) -> None:
    """Add this month's expected revenue lost to each driver: churn it causes x its value.

    A driver's cancellations are the expected ones minus those expected with the
    driver's exposure removed (flags off, rebuffering down to the "high" level).
    """
    price = list_price[plan].copy()
    if month >= PRICE_INCREASE.effective_month:
        price[plan == price_plan] = PRICE_INCREASE.new
    for driver, (name, level) in ATTRIBUTION.items():
        excess = np.maximum(x[name] - level, 0.0)
        without = 1.0 - np.exp(-h * np.exp(-BETA[name] * excess))
        loss[driver] += float(((p - without) * price).sum()) * VALUE_MONTHS


def _segment(rule: str, x: dict[str, np.ndarray], region: np.ndarray) -> np.ndarray:
    if rule == "rebuffering_high":
        mask = x["rebuffering_pct"] >= 2.0
    elif rule == "plan_ad_free":
        mask = (x["plan_annual"] == 0) & (x["plan_ad_supported"] == 0)
    elif rule.startswith("region_"):
        mask = region == rule.removeprefix("region_")
    else:
        mask = x[rule] > 0
    return np.asarray(mask, dtype=bool)


def _events(
    idx: np.ndarray,
    day: np.ndarray,
    kind: str,
    plan: np.ndarray,
    *,
    price: float | None = None,
    detail: np.ndarray | None = None,
) -> pd.DataFrame:
    plans = np.asarray(PLANS, dtype=object)[plan[idx]]
    prices = np.array([PLAN_PRICE[p] for p in plans]) if price is None else np.full(len(idx), price)
    return pd.DataFrame(
        {
            "subscriber_id": (idx + 1).astype("int64"),
            "event_day": day,
            "event_type": kind,
            "plan": plans,
            "price_usd": np.round(prices, 2),
            "detail": detail[idx] if detail is not None else "",
        }
    )


def _complaint_category(
    rng: np.random.Generator,
    reb: np.ndarray,
    payfail: np.ndarray,
    price: np.ndarray,
    gap: np.ndarray,
    ads: np.ndarray,
) -> np.ndarray:
    k = len(reb)
    w = np.column_stack(
        [
            0.3 + np.expm1(0.35 * np.minimum(reb, 10)),
            0.3 + 3.0 * payfail,
            0.2 + 2.0 * price,
            np.full(k, 0.5),
            0.4 + 1.5 * gap,
            np.full(k, 0.4),
            np.where(ads, 0.5, 0.05),
            np.full(k, 0.25),
            np.full(k, 0.25),
            np.full(k, 0.2),
        ]
    )
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    pick = (rng.random(k)[:, None] > cum).sum(axis=1)
    labels: np.ndarray = np.asarray(COMPLAINT_CATEGORIES, dtype=object)
    return labels[  # type: ignore[no-any-return]
        np.minimum(pick, len(COMPLAINT_CATEGORIES) - 1)
    ]
