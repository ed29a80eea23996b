"""Production risk: Pareto of delay and cost, critical path, predicted time to resolve."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Field

from opskit import insights
from opskit import provenance as prov
from opskit.analyses._common import validated
from opskit.analytics._result import Finding, Result, TableSpec
from opskit.analytics.duration import IssueDurationModel, durations
from opskit.analytics.pareto import pareto
from opskit.catalog import load
from opskit.config import Settings
from opskit.errors import ParameterError
from opskit.present import fmt, humanize

__all__ = ["Severity", "analyze_production_risk"]

Severity = Literal["critical", "high", "medium", "low"]


@validated
def analyze_production_risk(
    severity: Severity | None = None,
    by: Literal["component", "show", "root_cause", "team"] = "component",
    critical_delay_days: Annotated[float, Field(ge=0, le=365)] = 10.0,
    target: Annotated[float, Field(gt=0, le=1)] = 0.8,
    settings: Settings | None = None,
) -> Result:
    """Production risk: Pareto of delay and cost, critical path, predicted time to resolve.

    Parameters
    ----------
    severity
        Only issues of this severity (default: all).
    by
        Dimension of the Pareto (drill-down continues with the others).
    critical_delay_days
        An open critical/high issue at least this late is on the critical path.
    target
        Cumulative share for the vital few.

    Returns
    -------
    Result
        ``frame``: the Pareto of delay days by ``by``; ``tables``: ``cost_pareto``
        (overrun by show), ``critical_path`` (open late critical/high issues with
        predicted days to resolve and 50 %/90 % intervals), ``open_predictions``.
        Concentration risk is the share of all delay held by the top 3 items.
    """
    filters: dict[str, Any] = {"severity": severity} if severity else {}
    issues = load("production_issues", settings=settings, **filters)
    if issues.empty:
        raise ParameterError(
            f"no production issues with severity {severity!r} in the last 365 days"
        )
    p = prov.of(issues)
    order = [by, *[d for d in ("component", "root_cause") if d != by]]
    delay = pareto(
        issues.fillna({by: "(none)"}), "delay_days", by=order[:2], target=target, unit="days"
    )
    shows = issues[issues["show"].notna()]
    cost = (
        pareto(shows, "cost_overrun_usd", by="show", target=target, unit="usd", period="year")
        if len(shows) and shows["cost_overrun_usd"].sum() > 0
        else None
    )
    days_open, resolved = durations(issues)
    model = IssueDurationModel(features=["severity", "component"]).fit(issues, days_open, resolved)
    open_ = issues[issues["status"] != "done"].copy()
    if len(open_):
        age = (pd.Timestamp(issues.attrs["as_of"]) - open_["created"]).dt.total_seconds() / 86_400
        pred = model.predict(open_, levels=(0.5, 0.9), age_days=age.to_numpy())
        open_ = pd.concat([open_.reset_index(drop=True), pred.reset_index(drop=True)], axis=1)
        open_["age_days"] = age.to_numpy()
    crit = open_[
        open_["severity"].isin(["critical", "high"]) & (open_["delay_days"] >= critical_delay_days)
    ]
    crit = crit.sort_values("delay_days", ascending=False)
    top3 = (
        float(delay.frame["cumulative_share"].iloc[min(2, len(delay.frame) - 1)])
        if len(delay.frame)
        else 0.0
    )
    findings: list[Finding] = [*delay.findings, *(cost.findings if cost is not None else [])]
    for r in crit.head(3).itertuples():
        findings.append(
            Finding(
                title=f"{r.key} is {fmt(r.delay_days, 'days')} late",
                where=f"{r.component} / {r.team}",
                source="production_risk",
                action="assign an owner for unblocking and review scope within 48 h",
                provenance=p,
                evidence={
                    "days past due": (float(r.delay_days), "days"),
                    "predicted days to resolve": (float(r.median_days), "days"),
                },
                root_cause=humanize(str(r.root_cause)),
                confidence="high",
            )
        )
    total_overrun = float(issues["cost_overrun_usd"].sum())
    headline = (
        f"{fmt(len(open_), 'count')} of {fmt(len(issues), 'count')} issues are open; "
        f"{delay.statement}; cost overruns add up to {fmt(total_overrun, 'usd')} over the last year"
        + (f"; {len(crit)} late critical or high issues are on the critical path." if len(crit) else
           "; no late critical or high issue is on the critical path.")
    )  # fmt: skip
    return Result(
        name="production_risk",
        title="Production risk",
        headline=headline,
        frame=delay.frame,
        provenance=p,
        findings=insights.rank(findings),
        summary={
            "issues": len(issues),
            "open_issues": len(open_),
            "critical_path_issues": len(crit),
            "top3_delay_share": top3,
            "delay_days_total": float(issues["delay_days"].sum()),
            "cost_overrun_usd_total": total_overrun,
            "concentration": delay.statement,
        },
        tables={
            "cost_pareto": cost.frame if cost is not None else pd.DataFrame(),
            "critical_path": crit,
            "open_predictions": open_,
            "drilldown": delay.drilldown() if hasattr(delay, "drilldown") else pd.DataFrame(),
        },
        shown=(
            TableSpec(
                "frame",
                f"Delay past due by {humanize(by)} and {humanize(order[1])}",
                (*order[:2], "value", "share", "cumulative_share", "is_vital_few"),
                units={"value": "days"},
                labels={"value": "Delay past due"},
                name="delay-pareto",
            ),
            TableSpec(
                "critical_path",
                "Critical path: late critical and high issues",
                (
                    "key",
                    "summary",
                    "severity",
                    "status",
                    "component",
                    "delay_days",
                    "median_days",
                    "upper_90",
                ),
            ),
            TableSpec(
                "open_predictions",
                "Open issues: predicted days to resolve",
                (
                    "key",
                    "severity",
                    "status",
                    "component",
                    "age_days",
                    "median_days",
                    "lower_90",
                    "upper_90",
                ),
                sort_by="median_days",
            ),
            *(
                (
                    TableSpec(
                        "cost_pareto",
                        "Cost overrun by show",
                        ("show", "value", "share", "cumulative_share", "is_vital_few"),
                        units={"value": "usd"},
                        labels={"value": "Cost overrun"},
                    ),
                )
                if cost is not None
                else ()
            ),
        ),
        _chart=lambda r: delay.chart(),
        charts={"cost": lambda r: cost.chart()} if cost is not None else {},
    )
