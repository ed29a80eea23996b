"""Altair charts of the churn results (each takes the :class:`Result`)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from opskit.analytics._result import Result
from opskit.present.units import fmt, humanize

__all__ = [
    "calibration_chart",
    "forest_chart",
    "rate_chart",
    "retention_chart",
    "uplift_chart",
]


def _title(result: Result, text: str) -> str:
    return f"{text} (demo data)" if result.provenance.kind == "demo" else text


def retention_chart(result: Result) -> Any:
    """Kaplan-Meier retention by tenure with confidence bands, one colour per group."""
    df = result.frame
    base = alt.Chart(df).encode(
        x=alt.X("tenure_months:Q", title="months since signup"),
        color=alt.Color("group:N", title=result.summary.get("by") or "group"),
    )
    band = base.mark_area(opacity=0.2, interpolate="step-after").encode(
        y=alt.Y("ci_low:Q", title="share still subscribed", scale=alt.Scale(zero=False)),
        y2="ci_high:Q",
    )
    line = base.mark_line(interpolate="step-after").encode(
        y="retention:Q",
        tooltip=["group", "tenure_months", "retention", "ci_low", "ci_high", "at_risk"],
    )
    return (band + line).properties(title=_title(result, "Retention (Kaplan-Meier)"), width=520)


def forest_chart(result: Result) -> Any:
    """Odds ratios with confidence intervals on a log axis (1 = no effect)."""
    df = result.frame.copy()
    label = "driver_name" if "driver_name" in df else "term"
    df["term"] = df[label].astype(str).map(humanize)
    order = df["term"].tolist()
    base = alt.Chart(df).encode(y=alt.Y("term:N", sort=order, title=None))
    scale = alt.Scale(type="log")
    rule = base.mark_rule().encode(
        x=alt.X("ci_low:Q", scale=scale, title="Odds ratio of cancelling (ratio, log scale)"),
        x2="ci_high:Q",
    )
    point = base.mark_point(filled=True, size=60).encode(
        x=alt.X("odds_ratio:Q", scale=scale),
        tooltip=["term", "odds_ratio", "ci_low", "ci_high", "p_value"],
    )
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    top = df.sort_values("odds_ratio", ascending=False).head(1)
    above = int((df["ci_low"] > 1).sum())
    text = (
        f"Odds ratios of cancelling for {len(df)} churn drivers with 95 % intervals on a log scale; "
        f"{above} are clearly above 1 (no effect)"
        + (
            f", the largest is {top['term'].iloc[0]} at {fmt(float(top['odds_ratio'].iloc[0]), 'ratio')}."
            if len(top)
            else "."
        )
    )
    return (rule + point + one).properties(
        title=_title(result, "Churn drivers"), width=420, description=text
    )


def calibration_chart(result: Result) -> Any:
    """Observed churn rate (with Wilson intervals) against mean predicted risk per bin."""
    df = result.frame
    hi = float(max(df["mean_predicted"].max(), df["ci_high"].max()))
    diag = alt.Chart(pd.DataFrame({"x": [0.0, hi], "y": [0.0, hi]})).mark_line(
        strokeDash=[4, 4], color="grey"
    )
    diag = diag.encode(x="x:Q", y="y:Q")
    base = alt.Chart(df).encode(x=alt.X("mean_predicted:Q", title="mean predicted risk"))
    bars = base.mark_rule().encode(y=alt.Y("ci_low:Q", title="observed churn rate"), y2="ci_high:Q")
    pts = base.mark_line(point=True).encode(
        y="observed_rate:Q", tooltip=["bin", "n", "mean_predicted", "observed_rate"]
    )
    return (diag + bars + pts).properties(title=_title(result, "Calibration"), width=380)


def rate_chart(result: Result) -> Any:
    """Monthly churn rate over time with Wilson bands, one colour per group."""
    df = result.frame
    base = alt.Chart(df).encode(
        x=alt.X("month:T", title="month"), color=alt.Color("group:N", title="group")
    )
    band = base.mark_area(opacity=0.2).encode(
        y=alt.Y("ci_low:Q", title="monthly churn rate"), y2="ci_high:Q"
    )
    line = base.mark_line(point=True).encode(
        y="churn_rate:Q", tooltip=["month", "group", "subscribers", "churned", "churn_rate"]
    )
    return (band + line).properties(title=_title(result, "Churn rate"), width=520)


def uplift_chart(result: Result) -> Any:
    """Campaign uplift (treated minus control retention) with confidence intervals."""
    df = result.frame
    base = alt.Chart(df).encode(y=alt.Y("campaign_id:N", title=None))
    rule = base.mark_rule().encode(
        x=alt.X("uplift_ci_low:Q", title="retention uplift", axis=alt.Axis(format="%")),
        x2="uplift_ci_high:Q",
    )
    point = base.mark_point(filled=True, size=60).encode(
        x="uplift:Q",
        color=alt.Color("is_significant:N", title="significant"),
        tooltip=["campaign_id", "uplift", "uplift_ci_low", "uplift_ci_high", "p_value"],
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return (rule + point + zero).properties(title=_title(result, "Campaign uplift"), width=420)
