"""Insights: ranked, plain-language findings built from opskit's numbers.

Each ``from_<dataset>`` function turns one catalog frame into
:class:`~opskit.analytics._result.Finding` s. Every figure in a finding's text
comes from the frame (the text is generated from the finding's fields), the
recommended actions come from the playbook below, and provenance is carried
from the frame. :func:`rank` orders findings by money at stake, then by
subscribers; :func:`render_markdown` and :func:`findings_table` present them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from opskit import provenance as prov
from opskit.analytics._result import Confidence, Finding

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


def _confidence(n: float, p_value: float | None = None) -> Confidence:
    if p_value is not None and p_value >= 0.05:
        return "low"
    if n >= 1000 and (p_value is None or p_value < 0.01):
        return "high"
    return "medium" if n >= 100 else "low"


def from_revenue_impact(df: pd.DataFrame, *, top: int = 3) -> list[Finding]:
    """The churn drivers behind the most lost revenue (baseline excluded)."""
    p = prov.of(df)
    rows = df[(df["driver"] != "baseline") & (df["revenue_lost_annual_usd"] > 0)].head(top)
    out = []
    for r in rows.itertuples():
        out.append(
            Finding(
                title=f"{r.driver.replace('_', ' ').capitalize()} drives lost revenue",
                where="subscribers who cancelled in the window",
                source="revenue_impact",
                action=PLAYBOOK.get(r.driver, "investigate this driver"),
                provenance=p,
                impact_usd=float(r.revenue_lost_annual_usd),
                impact_subscribers=float(r.churners_attributed),
                evidence={
                    "relative churn risk": (float(r.relative_risk), ""),
                    "share of lost revenue": (float(r.share), "pct"),
                    "exposed subscribers": (float(r.exposed_subscribers), ""),
                },
                root_cause=f"exposed subscribers churn {r.relative_risk:.1f}x as often as others",
                confidence=_confidence(r.exposed_subscribers),
            )
        )
    return out


def from_churn_signals(df: pd.DataFrame, *, top: int = 3) -> list[Finding]:
    """The at-risk cohorts with the most revenue at risk."""
    p = prov.of(df)
    out = []
    for r in df[df["is_at_risk"]].head(top).itertuples():
        signal = r.top_signal if isinstance(r.top_signal, str) else "no single signal"
        out.append(
            Finding(
                title=f"At-risk cohort {r.plan.replace('_', '-')} / {r.region} / {r.tenure_band}",
                where=r.cohort_id,
                source="churn_signals",
                action=PLAYBOOK.get(
                    _signal_key(signal), "target this cohort with a retention offer"
                ),
                provenance=p,
                impact_usd=float(r.revenue_at_risk_30d_usd),
                impact_period="30 days",
                impact_subscribers=float(r.projected_churners_30d),
                evidence={
                    "monthly churn rate": (float(r.churn_rate_monthly), "pct"),
                    "relative risk": (float(r.relative_risk), ""),
                    f"{signal} lift": (float(r.top_signal_lift), "")
                    if not math.isnan(r.top_signal_lift)
                    else (0.0, ""),
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
    """Complaint themes whose complainants churn the most, by revenue lost."""
    p = prov.of(df)
    rows = (
        df[df["churn_lift"] > 1].sort_values("revenue_lost_annual_usd", ascending=False).head(top)
    )
    return [
        Finding(
            title=f"Complaints about {r.theme.replace('_', ' ')} precede cancellations",
            where=f"{int(r.tickets)} tickets in the window",
            source="complaints_topics",
            action=PLAYBOOK.get(r.theme, "fix the root cause of this theme"),
            provenance=p,
            impact_usd=float(r.revenue_lost_annual_usd),
            impact_subscribers=float(r.churned_30d),
            evidence={
                "churn lift vs everyone": (float(r.churn_lift), ""),
                "share of tickets": (float(r.share), "pct"),
                "change vs previous window": (float(r.trend_pct) / 100, "pct")
                if not math.isnan(r.trend_pct)
                else (0.0, "pct"),
            },
            root_cause=f"complainants churn {r.churn_lift:.1f}x the base rate",
            confidence=_confidence(r.complainants),
        )
        for r in rows.itertuples()
    ]


def from_retention_campaigns(df: pd.DataFrame) -> list[Finding]:
    """Campaigns worth scaling (significant uplift, positive ROI) and ones to stop."""
    p = prov.of(df)
    out = []
    for r in df.itertuples():
        profitable = not math.isnan(r.roi) and r.roi > 0
        if r.is_significant and r.uplift > 0 and profitable:
            out.append(
                Finding(
                    title=f"Scale '{r.name}'",
                    where=f"segment {r.segment}",
                    source="retention_campaigns",
                    action="extend the campaign to the whole segment and keep a 10 % control group",
                    provenance=p,
                    impact_usd=float(r.revenue_saved_annual_usd),
                    impact_subscribers=float(r.subscribers_saved),
                    evidence={
                        "retention uplift": (float(r.uplift), "pct"),
                        "p-value": (float(r.p_value), "p"),
                        "ROI": (float(r.roi), "") if not math.isnan(r.roi) else (0.0, ""),
                    },
                    root_cause="randomised test shows a real retention effect",
                    confidence=_confidence(r.treated + r.control, r.p_value),
                )
            )
        elif r.is_significant and r.uplift > 0:
            out.append(
                Finding(
                    title=f"Make '{r.name}' cheaper before scaling it",
                    where=f"segment {r.segment}",
                    source="retention_campaigns",
                    action="keep the offer but cut the cost per contact (cheaper channel or smaller incentive), then re-test",
                    provenance=p,
                    impact_usd=float(r.budget_usd - r.revenue_saved_annual_usd),
                    impact_period="lost on the campaign",
                    impact_subscribers=float(r.subscribers_saved),
                    evidence={
                        "retention uplift": (float(r.uplift), "pct"),
                        "p-value": (float(r.p_value), "p"),
                        "ROI": (float(r.roi), ""),
                    },
                    root_cause="it works, but saved revenue does not cover its cost",
                    confidence=_confidence(r.treated + r.control, r.p_value),
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
                    impact_usd=float(r.budget_usd),
                    impact_period="spent on the campaign",
                    evidence={
                        "retention uplift": (float(r.uplift), "pct"),
                        "p-value": (float(r.p_value), "p"),
                    },
                    root_cause="no measurable difference from the control group",
                    confidence=_confidence(r.treated + r.control),
                )
            )
    return out


def from_operational_efficiency(df: pd.DataFrame) -> list[Finding]:
    """The team with the largest cost overrun among those missing due dates."""
    p = prov.of(df)
    teams = df[(df["team"] != "all") & (df["resolved"] > 0)]
    if teams.empty:
        return []
    r = teams.sort_values("cost_overrun_usd", ascending=False).iloc[0]
    overall = df[df["team"] == "all"].iloc[0]
    return [
        Finding(
            title=f"Team {r['team']} has the largest cost overrun",
            where=f"{int(r['resolved'])} issues resolved in the window",
            source="operational_efficiency",
            action="review scope and staffing of this team's open work; unblock blocked issues first",
            provenance=p,
            impact_usd=float(r["cost_overrun_usd"]),
            impact_period="over the window",
            evidence={
                "on-time rate": (float(r["on_time_rate"]), "pct"),
                "on-time rate, all teams": (float(overall["on_time_rate"]), "pct"),
                "median cycle time": (float(r["cycle_time_median_days"]), "days"),
                "blocked share": (float(r["blocked_rate"]), "pct"),
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
            impact_subscribers=None,
            evidence={
                "rebuffering ratio": (float(by.loc[worst, "ratio"]), "pct"),
                "other CDNs": (float(base), "pct"),
                "plays": (float(by.loc[worst, "plays"]), ""),
            },
            root_cause=f"rebuffering is {by.loc[worst, 'ratio'] / base:.1f}x the other CDNs'",
            confidence=_confidence(by.loc[worst, "plays"]),
        )
    ]


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Largest (annualised) money at stake first, then subscribers; ties by title."""
    return sorted(
        findings, key=lambda f: (-f.impact_score, -(f.impact_subscribers or 0.0), f.title)
    )


def render_markdown(findings: Iterable[Finding], *, limit: int = 10) -> str:
    """Numbered markdown list of the findings' texts."""
    return "\n".join(f"{i}. {f.text()}" for i, f in enumerate(list(findings)[:limit], 1))


def findings_table(findings: Iterable[Finding]) -> pd.DataFrame:
    """One row per finding: title, where, impact, confidence, action, provenance, text."""
    rows = [
        {
            "title": f.title,
            "where": f.where,
            "source": f.source,
            "impact_usd": f.impact_usd,
            "impact_period": f.impact_period,
            "impact_subscribers": f.impact_subscribers,
            "confidence": f.confidence,
            "action": f.action,
            "provenance": f.provenance.kind,
            "text": f.text(),
        }
        for f in findings
    ]
    return pd.DataFrame(rows)
