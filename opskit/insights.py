"""Insights: ranked, plain-language findings built from opskit's numbers.

Each ``from_<dataset>`` function turns one catalog frame into
:class:`~opskit.analytics._result.Finding` s. Every figure in a finding's text
comes from the frame (the text is generated from the finding's fields), the
recommended actions come from the playbook below, and provenance is carried
from the frame. Money at stake is stated as the frame has it (over the frame's
window) and on the one basis every finding is ranked by
(:data:`opskit.metrics.MONEY_BASIS`): churn stakes count the cancellations
*above* the base rate (what fixing the cause could win back), each valued at
:data:`opskit.metrics.SUBSCRIPTION_VALUE_MONTHS` months of revenue.
:func:`rank` orders findings by that basis, then by subscribers;
:func:`render_markdown` and :func:`findings_table` present them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from opskit import provenance as prov
from opskit.analytics._result import Confidence, Finding
from opskit.metrics import SUBSCRIPTION_VALUE_MONTHS, per_year, window_days

__all__ = [
    "PLAYBOOK",
    "findings_table",
    "from_churn_signals",
    "from_complaints_topics",
    "from_operational_efficiency",
    "from_retention_campaigns",
    "from_revenue_impact",
    "from_streaming_qoe",
    "rank",
    "render_markdown",
]

#: Recommended action per churn driver / theme (what an operations team does next).
PLAYBOOK = {
    "payment_failure": "add smart retries and card-updater for failed renewals, and notify before access is cut",
    "high_rebuffering": "move affected ISPs/regions to the best-performing CDN and lower the start bitrate there",
    "complaint_contact": "fix the top complaint themes and follow up with complainants within 48 h",
    "low_engagement": "run a win-back with personalised recommendations for viewers inactive 30 days",
    "price_increase": "offer a loyalty discount or an annual plan to subscribers hit by the price rise",
    "content_gap": "fill release gaps in under-served genres and promote catalogue titles there",
    "playback_buffering": "open an incident with the worst CDN and review ABR ladders for affected devices",
    "billing_payment": "audit the payment flow for duplicate charges and declines",
    "login_account": "simplify password reset and make verification codes reliable",
    "app_crash": "prioritise crash fixes in the latest app release and stage the rollout",
    "content_library": "surface new releases in the favourite genres of complainants",
    "ads": "cap ad frequency and fix repeated ads on the ad-supported plan",
    "price": "explain the plan value and offer a downgrade path before cancellation",
}


def _days_phrase(days: float) -> str:
    return f"in the last {days:.0f} days"


def _confidence(n: float, p_value: float | None = None) -> Confidence:
    if p_value is not None and p_value >= 0.05:
        return "low"
    if n >= 1000 and (p_value is None or p_value < 0.01):
        return "high"
    return "medium" if n >= 100 else "low"


def _excess(ratio: float) -> float:
    """Share of an exposed group's churn above the base rate: ``1 - 1/ratio`` (0 when <= 1)."""
    return 1.0 - 1.0 / ratio if math.isfinite(ratio) and ratio > 1 else 0.0


def from_revenue_impact(df: pd.DataFrame, *, top: int = 3) -> list[Finding]:
    """The churn drivers behind the most lost revenue (baseline excluded)."""
    p = prov.of(df)
    days = window_days(df, 90)
    rows = df[(df["driver"] != "baseline") & (df["revenue_lost_annual_usd"] > 0)].head(top)
    return [
        Finding(
            title=f"{r.driver.replace('_', ' ').capitalize()} drives lost revenue",
            where="subscribers who cancelled in the window",
            source="revenue_impact",
            action=PLAYBOOK.get(r.driver, "investigate this driver"),
            provenance=p,
            impact_usd=float(r.revenue_lost_annual_usd),
            impact_period=_days_phrase(days),
            impact_usd_per_year=per_year(float(r.revenue_lost_annual_usd), days),
            impact_subscribers=float(r.churners_attributed),
            evidence={
                "relative churn risk": (float(r.relative_risk), "ratio"),
                "share of lost revenue": (float(r.share), "fraction"),
                "exposed subscribers": (float(r.exposed_subscribers), "count"),
            },
            root_cause=f"exposed subscribers churn {r.relative_risk:.1f}x as often as others",
            confidence=_confidence(r.exposed_subscribers),
        )
        for r in rows.itertuples()
    ]


def from_churn_signals(df: pd.DataFrame, *, top: int = 3) -> list[Finding]:
    """The at-risk cohorts with the most monthly revenue at risk above the average churn rate."""
    p = prov.of(df)
    at_risk = df[df["is_at_risk"]].copy()
    excess = at_risk["relative_risk"].map(_excess)
    # The monthly revenue of the cancellations above average churn, valued like every churn
    # stake: a year of revenue for each lost subscription.
    at_risk["excess_usd"] = at_risk["revenue_at_risk_30d_usd"] * excess * SUBSCRIPTION_VALUE_MONTHS
    at_risk["excess_n"] = at_risk["projected_churners_30d"] * excess
    out = []
    for r in (
        at_risk.sort_values("excess_usd", ascending=False, kind="stable").head(top).itertuples()
    ):
        signal = r.top_signal if isinstance(r.top_signal, str) else "no single signal"
        out.append(
            Finding(
                title=f"At-risk cohort {r.plan.replace('_', '-')} / {r.region} / {r.tenure_band}",
                where=f"{int(r.subscribers):,} active subscribers",
                source="churn_signals",
                action=PLAYBOOK.get(
                    _signal_key(signal), "target this cohort with a retention offer"
                ),
                provenance=p,
                impact_usd=float(r.excess_usd),
                impact_period="in the next 30 days, above average churn",
                impact_usd_per_year=per_year(float(r.excess_usd), 30),
                impact_subscribers=float(r.excess_n),
                evidence={
                    "monthly churn rate": (float(r.churn_rate_monthly), "fraction"),
                    "relative risk": (float(r.relative_risk), "ratio"),
                    f"{signal} lift": (float(r.top_signal_lift), "ratio")
                    if not math.isnan(r.top_signal_lift)
                    else (float("nan"), "ratio"),
                },
                root_cause=f"{signal} is over-represented in this cohort",
                confidence=_confidence(r.subscribers),
            )
        )
    return out


def _signal_key(label: str) -> str:
    return {
        "high rebuffering": "high_rebuffering",
        "payment failures": "payment_failure",
        "complaint contact": "complaint_contact",
        "no viewing in 30 days": "low_engagement",
    }.get(label, label)


def from_complaints_topics(df: pd.DataFrame, *, top: int = 2) -> list[Finding]:
    """Complaint themes whose complainants churn the most above the base rate, by revenue."""
    p = prov.of(df)
    days = window_days(df, 30)
    rows = df[df["churn_lift"] > 1].assign(
        excess=lambda d: d["revenue_lost_annual_usd"] * d["churn_lift"].map(_excess)
    )
    return [
        Finding(
            title=f"Complaints about {r.theme.replace('_', ' ')} precede cancellations",
            where=f"{int(r.tickets):,} tickets in the window",
            source="complaints_topics",
            action=PLAYBOOK.get(r.theme, "fix the root cause of this theme"),
            provenance=p,
            impact_usd=float(r.excess),
            impact_period=f"{_days_phrase(days)}, above the base churn rate",
            impact_usd_per_year=per_year(float(r.excess), days),
            impact_subscribers=float(r.churned_30d) * _excess(float(r.churn_lift)),
            evidence={
                "churn lift vs everyone": (float(r.churn_lift), "ratio"),
                "share of tickets": (float(r.share), "fraction"),
                "change vs previous window": (float(r.trend_pct), "percent"),
            },
            root_cause=f"complainants churn {r.churn_lift:.1f}x the base rate",
            confidence=_confidence(r.complainants),
        )
        for r in rows.sort_values("excess", ascending=False, kind="stable").head(top).itertuples()
    ]


def from_retention_campaigns(df: pd.DataFrame) -> list[Finding]:
    """Campaigns worth scaling (significant uplift, positive net value) and ones to stop.

    A campaign's stake is one run's net value (revenue saved minus its budget), or
    the money a run loses; a run is a one-off, counted once in a year.
    """
    p = prov.of(df)
    out = []
    for r in df.itertuples():
        saved, budget = float(r.revenue_saved_annual_usd), float(r.budget_usd)
        evidence: dict[str, tuple[float, str]] = {
            "retention uplift": (float(r.uplift), "pp"),
            "p-value": (float(r.p_value), "p_value"),
        }
        conf = _confidence(r.treated + r.control, r.p_value)
        if r.is_significant and r.uplift > 0 and saved > budget:
            out.append(
                Finding(
                    title=f"Scale '{r.name}'",
                    where=f"segment {r.segment}",
                    source="retention_campaigns",
                    action="extend the campaign to the whole segment and keep a 10 % control group",
                    provenance=p,
                    impact_usd=saved - budget,
                    impact_period="net, once per run of the campaign",
                    impact_usd_per_year=saved - budget,
                    impact_subscribers=float(r.subscribers_saved),
                    evidence={
                        **evidence,
                        "revenue saved": (saved, "usd"),
                        "budget": (budget, "usd"),
                        "ROI": (float(r.roi), "fraction"),
                    },
                    root_cause="randomised test shows a real retention effect that pays back",
                    confidence=conf,
                )
            )
        elif r.is_significant and r.uplift > 0:
            out.append(
                Finding(
                    title=f"Make '{r.name}' cheaper before scaling it",
                    where=f"segment {r.segment}",
                    source="retention_campaigns",
                    action="do not scale it as it is: each run loses money; cut the cost per contact "
                    "(cheaper channel or smaller incentive), then re-test",
                    provenance=p,
                    impact_usd=budget - saved,
                    impact_period="lost once per run of the campaign",
                    impact_usd_per_year=budget - saved,
                    impact_subscribers=float(r.subscribers_saved),
                    evidence={
                        **evidence,
                        "revenue saved": (saved, "usd"),
                        "budget": (budget, "usd"),
                        "ROI": (float(r.roi), "fraction"),
                    },
                    root_cause="it works, but saved revenue does not cover its cost",
                    confidence=conf,
                )
            )
        elif not r.is_significant:
            out.append(
                Finding(
                    title=f"Stop or redesign '{r.name}'",
                    where=f"segment {r.segment}",
                    source="retention_campaigns",
                    action="stop spending on it; test a different offer on this segment",
                    provenance=p,
                    impact_usd=budget,
                    impact_period="spent once per run, with no measurable effect",
                    impact_usd_per_year=budget,
                    evidence=evidence,
                    root_cause="no measurable difference from the control group",
                    confidence=_confidence(r.treated + r.control),
                )
            )
    return out


def from_operational_efficiency(df: pd.DataFrame) -> list[Finding]:
    """The team with the largest cost overrun among those resolving work."""
    p = prov.of(df)
    days = window_days(df, 90)
    teams = df[(df["team"] != "all") & (df["resolved"] > 0)]
    if teams.empty:
        return []
    r = teams.sort_values("cost_overrun_usd", ascending=False).iloc[0]
    overall = df[df["team"] == "all"].iloc[0]
    overrun = float(r["cost_overrun_usd"])
    return [
        Finding(
            title=f"Team {r['team']} has the largest cost overrun",
            where=f"{int(r['resolved']):,} issues resolved in the window",
            source="operational_efficiency",
            action="review scope and staffing of this team's open work; unblock blocked issues first",
            provenance=p,
            impact_usd=overrun,
            impact_period=_days_phrase(days),
            impact_usd_per_year=per_year(overrun, days),
            evidence={
                "on-time rate": (float(r["on_time_rate"]), "fraction"),
                "on-time rate, all teams": (float(overall["on_time_rate"]), "fraction"),
                "median cycle time": (float(r["cycle_time_median_days"]), "days"),
                "blocked share": (float(r["blocked_rate"]), "fraction"),
            },
            root_cause="work runs past its plan and is booked above budget",
            confidence=_confidence(float(r["resolved"]) * 20),
        )
    ]


def from_streaming_qoe(df: pd.DataFrame) -> list[Finding]:
    """The CDN with the worst watch-time-weighted rebuffering, against the others."""
    p = prov.of(df)
    d = df.dropna(subset=["rebuffering_ratio"])
    if d.empty or d["cdn"].nunique() < 2:
        return []
    w = d.assign(_stall=d["rebuffering_ratio"] * d["plays"])
    by = w.groupby("cdn").agg(stall=("_stall", "sum"), plays=("plays", "sum"))
    by["ratio"] = by["stall"] / by["plays"]
    worst = by["ratio"].idxmax()
    others = by.drop(index=worst)
    base = others["stall"].sum() / others["plays"].sum()
    return [
        Finding(
            title=f"CDN {worst} has the worst rebuffering",
            where=f"{int(by.loc[worst, 'plays']):,} plays in the window",
            source="streaming_qoe",
            action=PLAYBOOK["playback_buffering"],
            provenance=p,
            evidence={
                "rebuffering ratio": (float(by.loc[worst, "ratio"]), "fraction"),
                "other CDNs": (float(base), "fraction"),
                "plays": (float(by.loc[worst, "plays"]), "count"),
            },
            root_cause=f"rebuffering is {by.loc[worst, 'ratio'] / base:.1f}x the other CDNs'",
            confidence=_confidence(by.loc[worst, "plays"]),
        )
    ]


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Largest money at stake (USD per year) first, then subscribers, then the rest; ties by title."""

    def key(f: Finding) -> tuple[float, float, str]:
        money = f.stake_usd_per_year
        return (
            -(money if money is not None else -math.inf),
            -(f.impact_subscribers or 0.0),
            f.title,
        )

    return sorted(findings, key=key)


def render_markdown(findings: Iterable[Finding], *, limit: int = 10) -> str:
    """Numbered markdown list of the findings' texts."""
    return "\n".join(f"{i}. {f.text()}" for i, f in enumerate(list(findings)[:limit], 1))


def findings_table(findings: Iterable[Finding]) -> pd.DataFrame:
    """One row per finding: title, where, stake (native and per year), confidence, action, text."""
    rows = [
        {
            "title": f.title,
            "where": f.where,
            "source": f.source,
            "impact_usd": f.impact_usd,
            "impact_period": f.impact_period,
            "impact_usd_per_year": f.impact_usd_per_year,
            "impact_subscribers": f.impact_subscribers,
            "confidence": f.confidence,
            "action": f.action,
            "provenance": f.provenance.kind,
            "text": f.text(),
        }
        for f in findings
    ]
    columns = ["title", "where", "source", "impact_usd", "impact_period", "impact_usd_per_year",
               "impact_subscribers", "confidence", "action", "provenance", "text"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
