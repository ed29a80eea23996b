"""Findings and chart of a topics result."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from opskit.analytics._result import Confidence, Finding, Result
from opskit.provenance import Provenance

__all__ = ["build_findings", "topics_chart"]

#: A theme needs this many complainants with an observed window for a churn finding.
MIN_CHURN_COMPLAINANTS = 30
#: ... and this many tickets in the recent period for a growth finding.
MIN_RECENT_TICKETS = 20
SIGNIFICANCE = 0.05
CHART_TOPICS = 8


def _confidence(n: float, p: float) -> Confidence:
    if not math.isnan(p) and p < 0.01 and n >= 100:
        return "high"
    if not math.isnan(p) and p < SIGNIFICANCE:
        return "medium"
    return "low"


def build_findings(
    frame: pd.DataFrame, summary: dict[str, Any], prov: Provenance, trend_days: int
) -> list[Finding]:
    """Churn driver, fastest-growing and largest theme, each with its numbers."""
    out: list[Finding] = []
    base = float(summary.get("base_churn_rate", float("nan")))
    has_churn = "churn_lift" in frame and frame["churn_lift"].notna().any()
    if has_churn:
        cand = frame[
            (frame["complainants"] >= MIN_CHURN_COMPLAINANTS)
            & (frame["churn_lift"] > 1)
            & (frame["churn_p_value"] < SIGNIFICANCE)
        ]
        if len(cand):
            row = cand.sort_values(["churn_lift", "topic_id"], ascending=[False, True]).iloc[0]
            excess = float(row["complainants"] * (row["churn_rate"] - base))
            out.append(
                Finding(
                    title=f"Complainants about '{row['label']}' cancel more often than others",
                    where=f"complaint theme {int(row['topic_id'])}",
                    source="topics",
                    impact_subscribers=round(excess, 1),
                    impact_period="in the complaint window",
                    evidence={
                        "churn lift": (float(row["churn_lift"]), "ratio"),
                        "cancelled within window": (float(row["churn_rate"]), "fraction"),
                        "base rate of all complainants": (base, "fraction"),
                        "complainants": (float(row["complainants"]), "count"),
                        f"change in tickets over the last {trend_days} days": (
                            float(row["ticket_trend"]),
                            "fraction",
                        ),
                    },
                    root_cause=f"the theme's top terms: {', '.join(row['top_terms'][:5])}",
                    action=(
                        f"prioritise a fix for '{row['label']}' and offer recent "
                        "complainants a retention contact"
                    ),
                    confidence=_confidence(float(row["complainants"]), float(row["churn_p_value"])),
                    provenance=prov,
                )
            )
    growing = frame[(frame["recent_tickets"] >= MIN_RECENT_TICKETS) & frame["ticket_trend"].notna()]
    if len(growing) and float(growing["ticket_trend"].max()) > 0:
        row = growing.sort_values(["ticket_trend", "topic_id"], ascending=[False, True]).iloc[0]
        evidence: dict[str, tuple[float, str]] = {
            f"tickets in the last {trend_days} days": (float(row["recent_tickets"]), "count"),
            f"tickets in the {trend_days} days before": (float(row["previous_tickets"]), "count"),
            "change": (float(row["ticket_trend"]), "fraction"),
        }
        if has_churn and not math.isnan(float(row["churn_lift"])):
            evidence["churn lift"] = (float(row["churn_lift"]), "ratio")
        out.append(
            Finding(
                title=f"'{row['label']}' is the fastest-growing complaint theme",
                where=f"complaint theme {int(row['topic_id'])}",
                source="topics",
                evidence=evidence,
                action=(
                    f"check what changed in the last {trend_days} days (releases, pricing, "
                    f"incidents) behind '{row['label']}'"
                ),
                confidence="medium" if row["previous_tickets"] >= MIN_RECENT_TICKETS else "low",
                provenance=prov,
            )
        )
    top = frame.sort_values(["tickets", "topic_id"], ascending=[False, True]).iloc[0]
    out.append(
        Finding(
            title=f"'{top['label']}' is the largest complaint theme",
            where=f"complaint theme {int(top['topic_id'])}",
            source="topics",
            evidence={
                "tickets": (float(top["tickets"]), "count"),
                "share of assigned tickets": (float(top["share"]), "fraction"),
                "mean sentiment (-1 to 1)": (float(top["sentiment"]), "number"),
            },
            action=f"route '{top['label']}' tickets to an owning team and review its examples",
            confidence="high" if top["tickets"] >= 100 else "medium",
            provenance=prov,
        )
    )
    return out


def topics_chart(result: Result) -> Any:
    """Topic volumes (bars) and, when there are times, weekly counts of the largest topics."""
    import altair as alt

    frame = result.frame[["topic_id", "label", "tickets", "share", "ticket_trend", "sentiment"]]
    bars = (
        alt.Chart(frame, title="Complaint themes found in the ticket text")
        .mark_bar()
        .encode(
            x=alt.X("tickets:Q", title="Tickets (count)"),
            y=alt.Y("label:N", sort="-x", title=None),
            color=alt.Color(
                "sentiment:Q",
                title="Sentiment (-1 to 1)",
                scale=alt.Scale(scheme="redyellowgreen", domain=[-1, 1]),
            ),
            tooltip=["label", "tickets", alt.Tooltip("share:Q", format=".1%"), "ticket_trend"],
        )
    )
    top_theme = frame.sort_values("tickets", ascending=False).head(1)
    text = (
        f"Bar chart of tickets in each of {len(frame)} themes found in the complaint text, coloured "
        "by sentiment"
        + (f"; the largest is '{top_theme['label'].iloc[0]}' with {int(top_theme['tickets'].iloc[0]):,} tickets"
           if len(top_theme) else "")
    )  # fmt: skip
    weekly = result.tables.get("weekly")
    if weekly is None or weekly.empty:
        return bars.properties(description=text + ".")
    top = frame.nlargest(CHART_TOPICS, "tickets")["topic_id"]
    lines_data = weekly[weekly["topic_id"].isin(top)].copy()
    if isinstance(lines_data["week"].dtype, pd.DatetimeTZDtype):
        lines_data["week"] = lines_data["week"].dt.tz_localize(None)
    lines = (
        alt.Chart(lines_data, title="Weekly tickets (largest themes)")
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="Week"),
            y=alt.Y("tickets:Q", title="Tickets per week (count)"),
            color=alt.Color("label:N", title="theme"),
            tooltip=["label", "week", "tickets"],
        )
    )
    return (
        alt.vconcat(bars, lines)
        .resolve_scale(color="independent")
        .properties(description=text + ", and weekly tickets of the largest themes.")
    )
