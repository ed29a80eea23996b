"""KPIs, the vital few across domains, and the top findings ranked by money at stake."""

from __future__ import annotations

from typing import Annotated, Any

import altair as alt
import pandas as pd
from pydantic import Field

from opskit import insights
from opskit import provenance as prov
from opskit.analyses._common import Days, start_of, validated
from opskit.analytics._result import Finding, Result, TableSpec
from opskit.catalog import load
from opskit.config import Settings
from opskit.present import fmt, fmt_change, fmt_window, humanize

__all__ = ["executive_summary"]


@validated
def executive_summary(
    days: Days = 30,
    region: str | None = None,
    plan: str | None = None,
    top_findings: Annotated[int, Field(ge=1, le=50)] = 10,
    settings: Settings | None = None,
) -> Result:
    """KPIs, the vital few across domains, and the top findings ranked by money at stake.

    Parameters
    ----------
    days
        KPI window (compared with the window before).
    region, plan
        Restrict subscriber KPIs and findings to a region / plan.
    top_findings
        How many findings to keep.

    Returns
    -------
    Result
        ``kpis`` and ``frame``: the ``kpi_summary`` rows for the window (one
        definition per KPI, see :mod:`opskit.metrics`); ``tables["pareto"]``: the
        vital few per domain; findings: the top ``top_findings`` across domains on
        one money basis.
    """
    filters: dict[str, Any] = {
        k: v for k, v in (("region", region), ("plan", plan)) if v is not None
    }
    start = start_of(settings, days)
    kpis = load("kpi_summary", settings=settings, start=start, **filters)
    par = load("pareto_analysis", settings=settings)
    found: list[Finding] = []
    found += insights.from_revenue_impact(load("revenue_impact", settings=settings, **filters))
    found += insights.from_churn_signals(load("churn_signals", settings=settings, **filters))
    found += insights.from_complaints_topics(load("complaints_topics", settings=settings))
    found += insights.from_retention_campaigns(load("retention_campaigns", settings=settings))
    found += insights.from_operational_efficiency(load("operational_efficiency", settings=settings))
    qoe_filters: dict[str, Any] = {"region": region} if region else {}
    found += insights.from_streaming_qoe(load("streaming_qoe", settings=settings, **qoe_filters))
    ranked = insights.rank(found)[:top_findings]
    vital = par[par["is_vital_few"]]
    p = prov.combine([prov.of(kpis), prov.of(par), *(f.provenance for f in ranked)])
    k = kpis.set_index("kpi")
    window = fmt_window(kpis["window_start"].iloc[0], kpis["window_end"].iloc[0])
    scope = ", ".join(
        [f"region {humanize(region)}" if region else "", f"plan {humanize(plan)}" if plan else ""]
    ).strip(", ")
    subs, churn = k.loc["subscribers"], k.loc["churn_rate"]
    headline = (
        f"{window}{f' ({scope})' if scope else ''}: {fmt(subs['value'], 'count')} active subscribers "
        f"({fmt_change(subs['change'], 'count')}), monthly churn {fmt(churn['value'], 'fraction')} "
        f"({fmt_change(churn['change'], 'fraction')}), MRR {fmt(k.at['mrr', 'value'], 'usd')}"
        + (
            f". Top issue: {ranked[0].title.rstrip('.')}"
            + (
                f", {fmt(ranked[0].stake_usd_per_year, 'usd')} per year at stake."
                if ranked[0].stake_usd_per_year is not None
                else "."
            )
            if ranked
            else "."
        )
    )
    notes = []
    ignored = kpis.loc[kpis["filters_ignored"] != "", ["label", "filters_ignored"]]
    for r in ignored.itertuples():
        notes.append(f"{r.label} is not filtered by {r.filters_ignored}.")
    if filters:
        notes.append(
            "Complaint themes, campaigns, production issues and the vital few cover the whole "
            "service: they are not filtered by region or plan."
        )
    return Result(
        name="executive_summary",
        title="Executive summary",
        headline=headline,
        frame=kpis.drop(columns=["provenance"]),
        kpis=kpis,
        provenance=p,
        findings=ranked,
        notes=notes,
        summary={
            "window": window,
            "scope": scope or "whole service",
            "vital_few": "; ".join(
                f"{humanize(d)}: {', '.join(humanize(str(i)) for i in g['item'].head(3))}"
                for d, g in vital.groupby("dimension", sort=False)
            ),
        },
        tiles=(),
        tables={"pareto": par, "findings": insights.findings_table(ranked)},
        shown=(
            TableSpec(
                "pareto",
                "The vital few in each domain",
                ("dimension", "item", "value", "unit", "share", "cumulative_share"),
                query="is_vital_few",
                name="vital-few",
            ),
        ),
        _chart=lambda r: _pareto_overview(par),
    )


def _pareto_overview(par: pd.DataFrame) -> Any:
    data = par[par["rank"] <= 10].assign(
        share_pct=lambda d: d["share"] * 100,
        group=lambda d: d["is_vital_few"].map({True: "vital few", False: "rest"}),
        domain=lambda d: d["dimension"].map(humanize),
        label=lambda d: d["item"].astype(str).map(humanize),
    )
    top = par[par["rank"] == 1].sort_values("share", ascending=False)
    lead = top.iloc[0] if len(top) else None
    text = (
        f"Bar charts of the ten largest items in each of {par['dimension'].nunique()} domains as a "
        "share of the domain's total, vital few highlighted"
        + (
            f"; the most concentrated is {humanize(str(lead['dimension']))}, where "
            f"{humanize(str(lead['item']))} alone holds {fmt(lead['share'], 'fraction')}."
            if lead is not None
            else "."
        )
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("share_pct:Q", title="Share of the domain's total (%)"),
            y=alt.Y("label:N", sort="-x", title=None),
            color=alt.Color("group:N", title=None, scale=alt.Scale(domain=["vital few", "rest"],
                            range=["#c2410c", "#9ca3af"])),
            row=alt.Row("domain:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            tooltip=["domain:N", "label:N", alt.Tooltip("share_pct:Q", format=".1f")],
        )
        .resolve_scale(y="independent")
        .properties(width=420, height=alt.Step(14), title="The vital few in each domain",
                    description=text)
    )  # fmt: skip
