"""Business datasets: churn signals, revenue impact by driver, retention campaigns."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from opskit import schemas
from opskit.datasets._registry import END, START, Context, Filter, dataset
from opskit.datasets._subscribers import (
    HIGH_REBUFFERING,
    MONTH_DAYS,
    exposures,
    latest_plan,
    subscriber_state,
    tenure_band,
)
from opskit.datasets.ops import isin
from opskit.metrics import SUBSCRIPTION_VALUE_MONTHS, subscription_value

PLAN = Filter("plan", "choices", "plan(s)", ("subscribers", "plan"), dynamic=True)
REGION = Filter("region", "choices", "region(s)", ("subscribers", "region"), dynamic=True)


def total_revenue(t: ibis.Table) -> ibis.Value:
    """Revenue as every surface counts it: subscription + advertising + transactional (USD).

    The one definition of "revenue" of a row of the ``revenue`` table (the KPI, the
    markets' revenue and the revenue forecast all use it).
    """
    return (
        t.subscription_revenue_usd + t.ad_revenue_usd + t.transactional_revenue_usd.fill_null(0.0)
    )


SIGNALS = {
    "high_rebuffering": "high rebuffering",
    "payment_failure": "payment failures",
    "complaint_contact": "complaint contact",
    "low_engagement": "no viewing in 30 days",
}


@dataset(
    "churn_signals",
    schemas.ChurnSignals,
    PLAN, REGION, START, END,
    Filter("min_subscribers", "int", "smallest cohort to flag as at risk", minimum=0, maximum=100_000_000),
    Filter("risk_threshold", "float", "relative churn risk at which a cohort is at risk", minimum=0, maximum=100),
    Filter("at_risk_only", "bool", "return only at-risk cohorts"),
    default_window="last 90 days",
)  # fmt: skip
def churn_signals(ctx: Context) -> pd.DataFrame:
    """At-risk subscriber cohorts (plan x region x tenure band) found from behaviour.

    Churn rates are observed cancellations per subscriber-month in the window
    (default: the last 90 days); signals are measured in the 30 days before each
    subscriber's cancellation or the window end. A cohort is at risk when its
    churn rate is at least ``risk_threshold`` (default 1.25) times everyone's and
    it has at least ``min_subscribers`` (default 50) active subscribers.
    """
    lo, hi = ctx.window(90)
    st = subscriber_state(ctx, lo, hi)
    st = isin(isin(st, "plan", ctx.get("plan")), "region", ctx.get("region"))
    x = exposures(ctx, st, lo, hi)
    x = x.mutate(tenure_band=tenure_band(x.tenure_days))
    one = ibis.literal(1)
    df = (
        x.group_by(COHORT_KEYS)
        .aggregate(
            **_cohort_sums(x),
            _n=x.count(),
            _reb_sum=x.rebuffering.sum(),
            _reb_n=x.rebuffering.count(),
            **{f"_{k}": x[k].ifelse(one, 0).sum() for k in SIGNALS},
        )
        .to_pandas()
    )
    # Everyone's rates, from the same (additive) cohort sums: one query, no double scan.
    total = df.drop(columns=COHORT_KEYS).sum()
    df = cohort_risk(df, ctx.get("risk_threshold", 1.25), ctx.get("min_subscribers", 50))
    df["rebuffering_pct"] = 100 * df["_reb_sum"] / df["_reb_n"].where(df["_reb_n"] > 0)
    df["payment_failure_rate"] = df["_payment_failure"] / df["_n"]
    df["complaint_rate"] = df["_complaint_contact"] / df["_n"]
    df["inactive_rate"] = df["_low_engagement"] / df["_n"]
    lifts = pd.DataFrame(
        {
            label: (df[f"_{k}"] / df["_n"]) / (total[f"_{k}"] / total["_n"])
            if total[f"_{k}"] > 0
            else np.nan
            for k, label in SIGNALS.items()
        }
    )
    has_lift = lifts.notna().any(axis=1)
    df["top_signal"] = lifts.fillna(-1).idxmax(axis=1).where(has_lift)
    df["top_signal_lift"] = lifts.max(axis=1)
    if ctx.get("at_risk_only", False):
        df = df[df["is_at_risk"]]
    df = df.drop(columns=[c for c in df.columns if c.startswith("_")])
    return df.sort_values(
        ["revenue_at_risk_30d_usd", "cohort_id"], ascending=[False, True], ignore_index=True
    ).assign(rebuffering_pct=lambda d: d["rebuffering_pct"].astype("float64"))


#: A cohort is one plan x region x tenure band.
COHORT_KEYS = ["plan", "region", "tenure_band"]


def _cohort_sums(t: ibis.Table) -> dict[str, ibis.Value]:
    """The additive sums behind a cohort's churn rate and revenue (see :func:`cohort_risk`)."""
    one = ibis.literal(1)
    return {
        "subscribers": t.active_end.ifelse(one, 0).sum(),
        "subscribers_at_start": t.at_start.ifelse(one, 0).sum(),
        "churned": t.churned.ifelse(one, 0).sum(),
        "_months": t.months_at_risk.sum(),
        "monthly_revenue_usd": t.active_end.ifelse(t.price_usd, 0.0).sum(),
    }


def cohort_sums(state: ibis.Table) -> pd.DataFrame:
    """Cohort sums of a :func:`~opskit.datasets._subscribers.subscriber_state` (one query)."""
    t = state.mutate(tenure_band=tenure_band(state.tenure_days))
    return t.group_by(COHORT_KEYS).aggregate(**_cohort_sums(t)).to_pandas()


def cohort_risk(df: pd.DataFrame, risk_threshold: float, min_subscribers: int) -> pd.DataFrame:
    """Churn rate, relative risk, expected cancellations and revenue at risk per cohort.

    The definition behind ``churn_signals`` and the ``mrr_at_risk_30d`` KPI
    (:mod:`opskit.metrics`): a cohort's monthly churn rate is its cancellations per
    subscriber-month in the window; it is at risk when that rate is at least
    ``risk_threshold`` times everyone's and it has ``min_subscribers`` active
    subscribers; its revenue at risk is the expected cancellations in the next 30
    days (rate x active subscribers) times its monthly revenue per subscriber.
    """
    df = df.copy()
    months = df["_months"].sum()
    overall_rate = df["churned"].sum() / months if months > 0 else np.nan
    df["churn_rate_monthly"] = (
        (df["churned"] / df["_months"].where(df["_months"] > 0)).fillna(0.0).clip(0, 1)
    )
    df["relative_risk"] = df["churn_rate_monthly"] / overall_rate if overall_rate > 0 else np.nan
    df["projected_churners_30d"] = df["subscribers"] * df["churn_rate_monthly"] * 30 / MONTH_DAYS
    arpu = df["monthly_revenue_usd"] / df["subscribers"].where(df["subscribers"] > 0)
    df["revenue_at_risk_30d_usd"] = (df["projected_churners_30d"] * arpu).fillna(0.0)
    df["is_at_risk"] = (df["relative_risk"] >= risk_threshold) & (
        df["subscribers"] >= min_subscribers
    )
    df["cohort_id"] = df["plan"] + "|" + df["region"] + "|" + df["tenure_band"]
    return df


DRIVERS = {
    "high_rebuffering": f"mean rebuffering above {HIGH_REBUFFERING:.0%} in the 30 days before",
    "payment_failure": "a failed payment in the 30 days before",
    "complaint_contact": "a complaint in the 30 days before",
    "low_engagement": "no viewing in the 30 days before",
    "price_increase": "a price rise in the 90 days before",
    "content_gap": "no new release in the favourite genre in the 60 days before",
}


@dataset(
    "revenue_impact",
    schemas.RevenueImpact,
    PLAN, REGION, START, END,
    default_window="last 90 days",
)  # fmt: skip
def revenue_impact(ctx: Context) -> pd.DataFrame:
    """Revenue lost to cancellations in the window, attributed to churn drivers.

    Drivers (measured before each cancellation, or before the window end for
    those who stayed): high rebuffering, payment failure, complaint contact,
    low engagement, price increase, content gap. Each driver's relative risk is
    its exposed/unexposed churn-rate ratio; lost annualised revenue is split
    without double counting (see :class:`opskit.schemas.RevenueImpact`).
    Default window: the last 90 days.
    """
    lo, hi = ctx.window(90)
    st = subscriber_state(ctx, lo, hi)
    st = isin(isin(st, "plan", ctx.get("plan")), "region", ctx.get("region"))
    x = exposures(ctx, st, lo, hi)
    names = list(DRIVERS)
    patterns = (
        x.group_by(names)
        .aggregate(
            n=x.count(),
            churned=x.churned.ifelse(1, 0).sum(),
            lost=x.churned.ifelse(
                x.price_usd.fill_null(0.0) * SUBSCRIPTION_VALUE_MONTHS, 0.0
            ).sum(),
        )
        .to_pandas()
    )
    rows = []
    rr = {}
    for d in names:
        exp, unexp = patterns[patterns[d]], patterns[~patterns[d]]
        r_e = exp["churned"].sum() / exp["n"].sum() if exp["n"].sum() else 0.0
        r_u = unexp["churned"].sum() / unexp["n"].sum() if unexp["n"].sum() else 0.0
        rr[d] = r_e / r_u if r_u > 0 and exp["n"].sum() > 0 else np.nan
        rows.append((d, rr[d], int(exp["n"].sum()), r_e, r_u))
    log_rr = {d: (np.log(v) if np.isfinite(v) and v > 1 else 0.0) for d, v in rr.items()}
    w = patterns[names].to_numpy(dtype=float) * np.array([log_rr[d] for d in names])
    total_log = w.sum(axis=1)
    attributable = 1.0 - np.exp(-total_log)  # 1 - 1/prod(RR)
    split = np.divide(w, total_log[:, None], out=np.zeros_like(w), where=total_log[:, None] > 0)
    frac = split * attributable[:, None]
    churners = patterns["churned"].to_numpy(dtype=float)
    lost = patterns["lost"].to_numpy(dtype=float)
    out = pd.DataFrame(rows, columns=["driver", "relative_risk", "exposed_subscribers",
                                      "churn_rate_exposed", "churn_rate_unexposed"])  # fmt: skip
    out["churners_attributed"] = frac.T @ churners
    out["revenue_lost_annual_usd"] = frac.T @ lost
    base = pd.DataFrame(
        {
            "driver": ["baseline"],
            "relative_risk": [np.nan],
            "exposed_subscribers": [int(patterns["n"].sum())],
            "churn_rate_exposed": [patterns["churned"].sum() / max(patterns["n"].sum(), 1)],
            "churn_rate_unexposed": [patterns["churned"].sum() / max(patterns["n"].sum(), 1)],
            "churners_attributed": [float(((1 - attributable) * churners).sum())],
            "revenue_lost_annual_usd": [float(((1 - attributable) * lost).sum())],
        }
    )
    out = pd.concat([out, base], ignore_index=True)
    total = out["revenue_lost_annual_usd"].sum()
    out["share"] = out["revenue_lost_annual_usd"] / total if total > 0 else 0.0
    return out.sort_values(
        ["revenue_lost_annual_usd", "driver"], ascending=[False, True], ignore_index=True
    )


@dataset(
    "retention_campaigns",
    schemas.RetentionCampaigns,
    Filter("campaign_id", "choices", "campaign id(s)", ("campaigns", "campaign_id"), dynamic=True),
    Filter("status", "choice", "completed or running", ("completed", "running")),
    Filter("confidence", "float", "confidence level of the uplift interval", minimum=0.5, maximum=0.999),
)  # fmt: skip
def retention_campaigns(ctx: Context) -> pd.DataFrame:
    """Retention campaigns: measured uplift vs the randomised control group.

    Retention = still subscribed at the campaign's end date. Uplift is the
    treated-minus-control difference with a Wald interval (default 95 %) and a
    two-sided pooled two-proportion z-test.
    """
    c = ctx.table("campaigns")
    a = ctx.table("campaign_assignments")
    j = a.join(c, "campaign_id").left_join(latest_plan(ctx, ctx.as_of), "subscriber_id")
    j = j.drop("subscriber_id_right")
    j = isin(j, "campaign_id", ctx.get("campaign_id"))
    retained = (j.churned_at.isnull() | (j.churned_at > j.end_date)).ifelse(1, 0)
    g = (
        j.mutate(_ret=retained)
        .group_by(["campaign_id", "group"])
        .aggregate(
            n=lambda t: t.count(),
            retained=lambda t: t._ret.sum(),
            price=lambda t: t.price_usd.mean(),
        )
        .to_pandas()
    )
    camp = c.to_pandas()
    camp = camp[camp["campaign_id"].isin(g["campaign_id"])]
    wide = g.pivot(index="campaign_id", columns="group", values=["n", "retained", "price"]).fillna(
        0
    )
    z = stats.norm.ppf(0.5 + ctx.get("confidence", 0.95) / 2)
    rows = []
    for _, r in camp.iterrows():
        nt, nc = (
            wide.loc[r.campaign_id, ("n", "treatment")],
            wide.loc[r.campaign_id, ("n", "control")],
        )
        kt, kc = (
            wide.loc[r.campaign_id, ("retained", "treatment")],
            wide.loc[r.campaign_id, ("retained", "control")],
        )
        pt, pc = (kt / nt if nt else 0.0), (kc / nc if nc else 0.0)
        diff = pt - pc
        se = np.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc) if nt and nc else np.nan
        pooled = (kt + kc) / (nt + nc) if nt + nc else 0.0
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nc)) if nt and nc else np.nan
        p = float(2 * stats.norm.sf(abs(diff) / se0)) if se0 and se0 > 0 else 1.0
        saved = diff * nt
        arpu = float(wide.loc[r.campaign_id, ("price", "treatment")])
        rows.append(
            {
                "campaign_id": r.campaign_id, "name": r["name"], "segment": r.segment,
                "status": "completed" if r.end_date < ctx.as_of else "running",
                "start_date": r.start_date, "end_date": r.end_date,
                "treated": int(nt), "control": int(nc),
                "retention_treated": pt, "retention_control": pc, "uplift": diff,
                "uplift_ci_low": max(-1.0, diff - z * se), "uplift_ci_high": min(1.0, diff + z * se),
                "p_value": p, "is_significant": p < 1 - ctx.get("confidence", 0.95),
                "subscribers_saved": saved, "budget_usd": r.budget_usd,
                "cost_per_save_usd": r.budget_usd / saved if saved > 0 else np.nan,
                "revenue_saved_annual_usd": saved * subscription_value(arpu),
                "roi": (saved * subscription_value(arpu) - r.budget_usd) / r.budget_usd if r.budget_usd else np.nan,
            }
        )  # fmt: skip
    columns = [c for c in schemas.RetentionCampaigns.to_schema().columns if c != "provenance"]
    df = pd.DataFrame(rows, columns=columns)
    if ctx.get("status"):
        df = df[df["status"] == ctx.get("status")]
    return df.sort_values("campaign_id", ignore_index=True)


@dataset(
    "initiatives",
    schemas.Initiatives,
    Filter("driver", "choices", "churn driver(s) acted on", ("initiatives", "driver"), dynamic=True),
)  # fmt: skip
def initiatives(ctx: Context) -> pd.DataFrame:
    """Planned retention initiatives: cost (setup and monthly) and the expected effect.

    Each initiative acts on one ``revenue_impact`` driver and is expected to prevent
    ``effect`` (+/- ``effect_sd``) of that driver's attributable cancellations;
    ``requires`` and ``excludes`` list the initiatives it depends on or cannot run
    with. The planning team keeps this table; ``forecast_revenue_with_constraints``
    chooses the mix that pays back most.
    """
    t = isin(ctx.table("initiatives"), "driver", ctx.get("driver"))
    df = t.order_by("initiative_id").to_pandas()
    for col in ("requires", "excludes"):
        df[col] = df[col].fillna("")
    return df
