"""Complaint themes: volume, trend, churn-attributed revenue, Pareto, quick wins vs strategic."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from opskit import insights
from opskit import provenance as prov
from opskit.analyses._common import Days, start_of, validated
from opskit.analytics._result import Result, TableSpec
from opskit.analytics.pareto import pareto
from opskit.analytics.topics import topics_from_warehouse
from opskit.catalog import load
from opskit.config import Settings
from opskit.present import fmt, humanize

__all__ = ["NOT_FIXABLE", "THEME_EFFORT", "analyze_complaint_themes"]

#: Effort to fix each complaint theme (assumption, used to split quick wins from strategic work).
THEME_EFFORT: dict[str, Literal["low", "medium", "high"]] = {
    "login_account": "low", "subtitles_audio": "low", "customer_service": "low",
    "billing_payment": "medium", "app_crash": "medium", "ads": "medium", "casting_device": "medium",
    "playback_buffering": "high", "content_library": "high", "price": "high",
}  # fmt: skip
#: Themes outside the operations team's control (pricing, catalogue strategy).
NOT_FIXABLE = {"price", "content_library"}


@validated
def analyze_complaint_themes(
    days_back: Days = 30,
    fixable_only: bool = True,
    max_themes: Annotated[int, Field(ge=1, le=50)] = 10,
    target: Annotated[float, Field(gt=0, le=1)] = 0.8,
    n_text_topics: Annotated[int, Field(ge=2, le=40)] = 10,
    settings: Settings | None = None,
) -> Result:
    """Complaint themes: volume, trend, churn-attributed revenue, Pareto, quick wins vs strategic.

    Parameters
    ----------
    days_back
        Window of tickets analysed (trend compares with the window before).
    fixable_only
        Leave out themes outside operations' control (pricing, catalogue).
    max_themes
        Themes kept in the result.
    target
        Cumulative share for the Pareto vital few.
    n_text_topics
        Topics to find in the ticket text (TF-IDF + NMF); fixed so runs compare.

    Returns
    -------
    Result
        ``frame``: one row per theme with tickets, trend, churn lift, revenue lost,
        effort and priority (``quick win`` / ``strategic`` / ``incremental``);
        ``tables["pareto"]`` the Pareto of revenue lost; ``tables["text_topics"]``
        the themes found in the ticket text, with labels and examples.
    """
    start = start_of(settings, days_back)
    themes = load("complaints_topics", settings=settings, start=start)
    p = prov.of(themes)
    if fixable_only:
        themes = themes[~themes["theme"].isin(NOT_FIXABLE)]
    themes = themes.head(max_themes).copy()
    themes["effort"] = themes["theme"].map(THEME_EFFORT).fillna("medium")
    value = themes["revenue_lost_annual_usd"]
    big = value >= value.median() if len(themes) else value
    themes["priority"] = np.where(
        big & (themes["effort"] == "low"), "quick win", np.where(big, "strategic", "incremental")
    )
    par = (
        pareto(themes, "revenue_lost_annual_usd", by="theme", target=target, unit="usd",
               period=f"{days_back} days")
        if value.sum() > 0
        else None
    )  # fmt: skip
    findings = insights.from_complaints_topics(themes)
    if par is not None:
        findings += par.findings
    # Themes found in the ticket text itself (the agents' category is right ~80 % of the time).
    text_topics = topics_from_warehouse(
        settings, start=start, n_topics=n_text_topics, random_state=0
    )
    findings += text_topics.findings
    quick = themes.loc[themes["priority"] == "quick win", "theme"].map(humanize).tolist()
    fastest = themes.sort_values("trend_pct", ascending=False) if len(themes) else themes
    tickets = int(themes["tickets"].sum())
    top = themes.sort_values("revenue_lost_annual_usd", ascending=False).head(1)
    headline = (
        f"{fmt(tickets, 'count')} complaint tickets in the last {days_back} days"
        + (
            f"; complainants about {humanize(str(top['theme'].iloc[0]))} cancel the most revenue "
            f"({fmt(float(top['revenue_lost_annual_usd'].iloc[0]), 'usd')} of yearly revenue)"
            if len(top) and float(top["revenue_lost_annual_usd"].iloc[0]) > 0
            else ""
        )
        + (f"; quick wins: {', '.join(quick)}" if quick else "; no quick wins")
        + "."
    )
    return Result(
        name="complaint_themes",
        title="Complaint themes",
        headline=headline,
        frame=themes.drop(columns=["provenance"]),
        provenance=p,
        findings=insights.rank(findings),
        summary={
            "window_days": days_back,
            "tickets": tickets,
            "themes": len(themes),
            "revenue_lost_complainants_usd": float(value.sum()),
            "quick_wins": quick or "none",
            "fastest_growing": humanize(str(fastest["theme"].iloc[0])) if len(fastest) else "n/a",
        },
        tables={
            "pareto": par.frame if par is not None else pd.DataFrame(),
            "text_topics": text_topics.frame,
            "weekly": text_topics.tables.get("weekly", pd.DataFrame()),
        },
        shown=(
            TableSpec(
                "frame",
                "Complaint themes by revenue lost to complainants' cancellations",
                (
                    "theme",
                    "tickets",
                    "trend_pct",
                    "churn_lift",
                    "revenue_lost_annual_usd",
                    "effort",
                    "priority",
                ),
                sort_by="revenue_lost_annual_usd",
                name="themes",
            ),
            TableSpec(
                "text_topics",
                "Themes found in the ticket text",
                ("label", "tickets", "share", "ticket_trend", "sentiment", "churn_rate"),
            ),
        ),
        _chart=(lambda r: par.chart()) if par is not None else None,
        charts={"text_topics": lambda r: text_topics.chart()},
    )
