"""Why subscribers churn: at-risk cohorts, model-based drivers, linked evidence."""

from __future__ import annotations

from typing import Any

import numpy as np

from opskit import insights
from opskit import provenance as prov
from opskit.analyses._common import Days, check_cohort, clock, start_of, validated
from opskit.analytics._result import Finding, Result, TableSpec
from opskit.analytics.churn import ACTIONABLE, DRIVERS, driver_effects, driver_frame
from opskit.catalog import load
from opskit.config import Settings
from opskit.present import fmt, humanize

__all__ = ["analyze_churn_root_cause"]

#: A fixed-seed sample of this many subscriber-months keeps the driver fit under a second.
MAX_MODEL_ROWS = 120_000
#: The KPIs this report shows as tiles (definitions in :mod:`opskit.metrics`).
KPI_TILES = ("churn_rate", "mrr_at_risk_30d", "revenue_lost_to_churn", "subscribers")


@validated
def analyze_churn_root_cause(
    cohort: str | None = None,
    window_days: Days = 90,
    include_recommendations: bool = True,
    settings: Settings | None = None,
) -> Result:
    """Why subscribers churn: at-risk cohorts, model-based drivers, linked evidence.

    Parameters
    ----------
    cohort
        A ``churn_signals`` cohort id (``plan|region|tenure``); ``None`` analyses everyone.
    window_days
        Look-back window for cohorts, drivers and evidence.
    include_recommendations
        Add a finding per actionable driver with the revenue at stake.

    Returns
    -------
    Result
        ``frame``: one row per churn driver (odds ratio with interval, revenue lost
        attributed to it); ``tables``: ``cohorts``, ``revenue_impact``,
        ``complaints``, ``qoe``, ``open_issues``; ``kpis``: churn rate, revenue at
        risk and revenue lost as :mod:`opskit.metrics` defines them; findings ranked
        by money at stake.
    """
    start = start_of(settings, window_days)
    cohorts = load("churn_signals", settings=settings, start=start)
    filters: dict[str, Any] = {}
    scope = "all subscribers"
    if cohort is not None:
        check_cohort(cohorts, cohort)
        plan, region, _ = cohort.split("|")
        filters = {"plan": plan, "region": region}
        scope = f"cohort {humanize(cohort)}"
    months = load("subscriber_months", settings=settings, start=start, **filters)
    if len(months) > MAX_MODEL_ROWS:
        months = months.sample(MAX_MODEL_ROWS, random_state=0)
    names = [d for d in DRIVERS if not (cohort is not None and d == "plan")]  # one plan in a cohort
    effects = driver_effects(driver_frame(months), drivers=names)
    impact = load("revenue_impact", settings=settings, start=start, **filters)
    kpis = load("kpi_summary", settings=settings, start=start, **filters)
    complaints = load(
        "complaints_topics", settings=settings, start=start_of(settings, min(window_days, 30))
    )
    qoe_start, qoe_end = clock(settings, "streaming_qoe").window(14)
    qoe = load("streaming_qoe", settings=settings, granularity="day", start=qoe_start, end=qoe_end,
               **({"region": filters["region"]} if filters else {}))  # fmt: skip
    issues = load("production_issues", settings=settings, status=["open", "in_progress", "blocked"])
    frame = effects.frame.copy()
    lost = impact.set_index("driver")["revenue_lost_annual_usd"]
    frame["revenue_lost_annual_usd"] = frame["feature"].map(
        lambda d: lost.get(ACTIONABLE.get(d, ""), np.nan)
    )
    p = prov.combine([prov.of(x) for x in (cohorts, months, impact, complaints, qoe, issues)])
    findings: list[Finding] = []
    if include_recommendations:
        findings += insights.from_revenue_impact(impact)
        findings += insights.from_churn_signals(
            cohorts[cohorts["cohort_id"] == cohort] if cohort else cohorts
        )
        findings += insights.from_complaints_topics(complaints)
        findings += insights.from_streaming_qoe(qoe)
    at_risk = cohorts[cohorts["is_at_risk"]]
    strongest = frame.sort_values("odds_ratio", ascending=False).iloc[0] if len(frame) else None
    k = kpis.set_index("kpi")
    actionable = float(impact.loc[impact["driver"] != "baseline", "revenue_lost_annual_usd"].sum())
    total_lost = float(k.at["revenue_lost_to_churn", "value"])
    headline = (
        f"Cancellations in the last {window_days} days cost {fmt(total_lost, 'usd')} of yearly revenue "
        f"({scope}); {fmt(actionable, 'usd')} of it is attributable to drivers opskit can name"
        + (
            f", and a {strongest['driver_name']} raises the odds of cancelling most "
            f"({fmt(strongest['odds_ratio'], 'ratio')})"
            if strongest is not None
            else ""
        )
        + f". {len(at_risk)} cohorts are at risk."
    )
    return Result(
        name="churn_root_cause",
        title="Churn root cause",
        headline=headline,
        frame=frame,
        provenance=p,
        findings=insights.rank(findings),
        notes=list(effects.notes),
        kpis=k.loc[list(KPI_TILES)].reset_index(),
        summary={
            "cohort": cohort or "all",
            "scope": scope,
            "window_days": window_days,
            "at_risk_cohorts": len(at_risk),
            "revenue_lost_actionable_usd": actionable,
            "strongest_driver": str(strongest["driver_name"]) if strongest is not None else "n/a",
        },
        tiles=("at_risk_cohorts", "revenue_lost_actionable_usd"),
        tables={
            "cohorts": cohorts,
            "revenue_impact": impact,
            "complaints": complaints,
            "qoe": qoe,
            "open_issues": issues,
        },
        shown=(
            TableSpec(
                "frame",
                "Churn drivers: odds ratios from the model",
                (
                    "driver_name",
                    "odds_ratio",
                    "ci_low",
                    "ci_high",
                    "p_value",
                    "revenue_lost_annual_usd",
                ),
                sort_by="odds_ratio",
                name="drivers",
            ),
            TableSpec(
                "revenue_impact",
                "Revenue lost, attributed to drivers without double counting",
                (
                    "driver",
                    "relative_risk",
                    "exposed_subscribers",
                    "churners_attributed",
                    "revenue_lost_annual_usd",
                    "share",
                ),
            ),
            TableSpec(
                "cohorts",
                "At-risk cohorts",
                (
                    "cohort_id",
                    "subscribers",
                    "churn_rate_monthly",
                    "relative_risk",
                    "top_signal",
                    "revenue_at_risk_30d_usd",
                ),
                query="is_at_risk",
                name="at-risk-cohorts",
            ),
            TableSpec(
                "complaints",
                "Complaint themes, last 30 days",
                ("theme", "tickets", "trend_pct", "churn_lift", "revenue_lost_annual_usd"),
            ),
            TableSpec(
                "open_issues",
                "Open production issues",
                ("key", "summary", "severity", "status", "component", "created"),
                sort_by="created",
            ),
        ),
        _chart=lambda r: effects.chart(),
    )
