"""Cross-domain Pareto tables: the vital few items behind most of each impact."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from opskit import schemas
from opskit.analytics.pareto import pareto_table
from opskit.datasets import audience, business, ops
from opskit.datasets._registry import END, START, Context, Filter, dataset


def _sub(ctx: Context) -> Context:
    keep = {k: v for k, v in ctx.filters.items() if k in ("start", "end")}
    return Context(ctx.warehouse, keep, ctx.as_of, ctx._distinct)


def _revenue(ctx: Context) -> pd.Series:
    df = business.revenue_impact(_sub(ctx))
    df = df[df["driver"] != "baseline"]  # not actionable
    return df.set_index("driver")["revenue_lost_annual_usd"]


def _cohorts(ctx: Context) -> pd.Series:
    return business.churn_signals(_sub(ctx)).set_index("cohort_id")["revenue_at_risk_30d_usd"]


def _complaints(ctx: Context) -> pd.Series:
    return audience.complaints_topics(_sub(ctx)).set_index("theme")["tickets"].astype(float)


def _delay(ctx: Context) -> pd.Series:
    df = ops.production_issues(_sub(ctx))
    return df.groupby(df["component"].fillna("(none)"))["delay_days"].sum()


def _cost(ctx: Context) -> pd.Series:
    df = ops.production_issues(_sub(ctx))
    df = df[df["show"].notna()]
    return df.groupby("show")["cost_overrun_usd"].sum()


def _problems(ctx: Context) -> pd.Series:
    df = ops.problems(_sub(ctx))
    return df.groupby("entity")["duration_min"].sum(min_count=1).fillna(0.0)


def _content(ctx: Context) -> pd.Series:
    return audience.content_catalog(_sub(ctx)).set_index("title")["viewing_hours"]


#: dimension -> (unit, source)
DIMENSIONS: dict[str, tuple[str, Callable[[Context], pd.Series]]] = {
    "revenue_lost_by_driver": ("USD per year", _revenue),
    "revenue_at_risk_by_cohort": ("USD per 30 days", _cohorts),
    "complaints_by_theme": ("tickets", _complaints),
    "delay_by_component": ("days past due", _delay),
    "cost_overrun_by_show": ("USD", _cost),
    "problem_minutes_by_service": ("minutes", _problems),
    "viewing_hours_by_title": ("hours", _content),
}


@dataset(
    "pareto_analysis",
    schemas.ParetoAnalysis,
    Filter("dimension", "choices", "which impact(s) to rank", tuple(DIMENSIONS)),
    Filter("target", "float", "cumulative share the vital few must reach", minimum=0.01, maximum=1.0),
    START, END,
    default_window="each dimension's own default",
)  # fmt: skip
def pareto_analysis(ctx: Context) -> pd.DataFrame:
    """Pareto tables across domains (revenue drivers, cohorts, complaints, delays, costs, ...).

    The vital few are the smallest set of items reaching ``target`` (default
    80 %) of the total. Dimensions with a zero total are left out.
    """
    target = ctx.get("target", 0.8)
    frames = []
    for dim in ctx.get("dimension") or list(DIMENSIONS):
        unit, source = DIMENSIONS[dim]
        values = source(ctx)
        values = values[values > 0]
        if values.empty:
            continue
        t = pareto_table(values.astype("float64"), target=target)
        t.insert(0, "dimension", dim)
        t["item"] = t["item"].astype(str)
        t["unit"] = unit
        frames.append(t)
    cols = [
        "dimension",
        "item",
        "value",
        "unit",
        "rank",
        "share",
        "cumulative_share",
        "is_vital_few",
        "abc_class",
    ]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
