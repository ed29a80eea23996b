"""The seed platform's five analysis tools, plus the executive summary and service health.

Each function takes typed, validated parameters (a bad value raises
:class:`~opskit.errors.ParameterError` naming the valid ones), builds on the
catalog and the analytics, and returns a :class:`~opskit.analytics._result.Result`
(``frame``, ``findings``, ``chart()``, ``tables``, provenance). The same
signatures drive the report notebooks (``notebooks/analyses/``) and the MCP tools.

=====================================  ==========================================
function                               what it answers
=====================================  ==========================================
:func:`analyze_churn_root_cause`        why subscribers leave, who is at risk, what to do
:func:`analyze_complaint_themes`        what customers complain about, what it costs
:func:`analyze_production_risk`         which issues put delivery and money at risk
:func:`forecast_revenue_with_constraints`  revenue outlook and the best initiative mix
:func:`generate_retention_campaign`     who to target, how big a control group, ROI
:func:`executive_summary`               KPIs, the vital few across domains, top findings
:func:`service_health`                  APM/QoE anomalies per service
=====================================  ==========================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, validate_call

from opskit import insights
from opskit import provenance as prov
from opskit.analytics._result import Finding, Result
from opskit.analytics.churn import DRIVERS, churn_model, driver_effects, driver_frame
from opskit.analytics.churn.campaigns import campaign_sample_size
from opskit.analytics.duration import IssueDurationModel, durations
from opskit.analytics.forecast import forecast_revenue
from opskit.analytics.forecast.constraints import forecast_revenue_with_constraints as _milp_plan
from opskit.analytics.pareto import pareto
from opskit.analytics.topics import topics_from_warehouse
from opskit.catalog import load
from opskit.config import Settings
from opskit.errors import ParameterError
from opskit.health import service_health as _service_health

__all__ = [
    "ANALYSES",
    "analyze_churn_root_cause",
    "analyze_complaint_themes",
    "analyze_production_risk",
    "executive_summary",
    "forecast_revenue_with_constraints",
    "generate_retention_campaign",
    "service_health",
]

F = TypeVar("F", bound=Callable[..., Result])


def _validated(fn: F) -> F:
    """Validate arguments against the annotations; errors become :class:`ParameterError`."""
    checked = validate_call(config={"arbitrary_types_allowed": True})(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Result:
        try:
            return checked(*args, **kwargs)
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or "arguments"
                problems.append(f"{where}: {e['msg']}")
            raise ParameterError(f"{fn.__name__}: " + "; ".join(problems)) from None

    wrapper.__signature__ = checked.__signature__ if hasattr(checked, "__signature__") else None  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


Days = Annotated[int, Field(ge=7, le=365, description="look-back window in days")]


# --- 1. churn root cause ------------------------------------------------------------------

#: How churn drivers of the model map to the revenue attribution's drivers.
_DRIVER_TO_IMPACT = {
    "rebuffering_pct": "high_rebuffering",
    "inactive": "low_engagement",
    "payment_failed": "payment_failure",
    "complaint": "complaint_contact",
    "price_increase": "price_increase",
    "content_gap": "content_gap",
}
_MAX_MODEL_ROWS = 120_000
_CAMPAIGN_MODEL_ROWS = 30_000


@_validated
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
        ``frame``: one row per churn driver (odds ratio with interval, prevalence,
        revenue lost attributed to it); ``tables``: ``cohorts``, ``complaints``,
        ``qoe_by_cdn``, ``open_issues``; findings ranked by money at stake.
    """
    cohorts = load("churn_signals", settings=settings, start=_start(settings, window_days))
    filters: dict[str, Any] = {}
    scope = "all subscribers"
    if cohort is not None:
        _check_cohort(cohorts, cohort)
        plan, region, _ = cohort.split("|")
        filters = {"plan": plan, "region": region}
        scope = f"cohort {cohort}"
    start = _start(settings, window_days)
    months = load("subscriber_months", settings=settings, start=start, **filters)
    if len(months) > _MAX_MODEL_ROWS:  # a fixed-seed sample keeps the fit under a second
        months = months.sample(_MAX_MODEL_ROWS, random_state=0)
        months.attrs.update(months.attrs)
    names = [d for d in DRIVERS if not (cohort is not None and d == "plan")]  # one plan in a cohort
    effects = driver_effects(driver_frame(months), drivers=names)
    impact = load("revenue_impact", settings=settings, start=start, **filters)
    complaints = load(
        "complaints_topics", settings=settings, start=_start(settings, min(window_days, 30))
    )
    qoe = load("streaming_qoe", settings=settings, granularity="day", start=_start(settings, 14),
               **({"region": filters["region"]} if filters else {}))  # fmt: skip
    issues = load("production_issues", settings=settings, status=["open", "in_progress", "blocked"])
    frame = effects.frame.copy()
    lost = impact.set_index("driver")["revenue_lost_annual_usd"]
    frame["revenue_lost_annual_usd"] = frame["feature"].map(
        lambda d: lost.get(_DRIVER_TO_IMPACT.get(d, ""), np.nan)
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
    return Result(
        name="churn_root_cause",
        frame=frame,
        provenance=p,
        findings=insights.rank(findings),
        summary={
            "scope": scope,
            "window": f"last {window_days} days",
            "at-risk cohorts": len(at_risk),
            "revenue at risk next 30 days (USD)": float(at_risk["revenue_at_risk_30d_usd"].sum()),
            "revenue lost to churn, annualised (USD)": float(
                impact["revenue_lost_annual_usd"].sum()
            ),
            "strongest driver (odds ratio)": str(
                frame.sort_values("odds_ratio", ascending=False)["term"].iloc[0]
            )
            if len(frame)
            else "n/a",
        },
        tables={
            "cohorts": cohorts,
            "revenue_impact": impact,
            "complaints": complaints,
            "qoe": qoe,
            "open_issues": issues,
        },
        _chart=lambda r: effects.chart(),
    )


def _check_cohort(cohorts: pd.DataFrame, cohort: str) -> None:
    """Raise :class:`ParameterError` naming at-risk cohorts if ``cohort`` is unknown."""
    valid = cohorts["cohort_id"].tolist()
    if cohort not in valid:
        top = ", ".join(cohorts.loc[cohorts["is_at_risk"], "cohort_id"].head(8)) or ", ".join(
            valid[:8]
        )
        raise ParameterError(f"unknown cohort {cohort!r}; at-risk cohorts include: {top}")


def _start(settings: Settings | None, days: int) -> pd.Timestamp:
    as_of = pd.Timestamp(load("kpi_summary", settings=settings).attrs["as_of"])
    return as_of - pd.Timedelta(days=days)


# --- 2. complaint themes ------------------------------------------------------------------

#: Effort to fix each complaint theme (assumption, used to split quick wins from strategic work).
THEME_EFFORT: dict[str, Literal["low", "medium", "high"]] = {
    "login_account": "low", "subtitles_audio": "low", "customer_service": "low",
    "billing_payment": "medium", "app_crash": "medium", "ads": "medium", "casting_device": "medium",
    "playback_buffering": "high", "content_library": "high", "price": "high",
}  # fmt: skip
#: Themes outside the operations team's control (pricing, catalogue strategy).
NOT_FIXABLE = {"price", "content_library"}


@_validated
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
    start = _start(settings, days_back)
    themes = load("complaints_topics", settings=settings, start=start)
    if fixable_only:
        themes = themes[~themes["theme"].isin(NOT_FIXABLE)]
    themes = themes.head(max_themes).copy()
    themes["effort"] = themes["theme"].map(THEME_EFFORT).fillna("medium")
    value = themes["revenue_lost_annual_usd"]
    big = value >= value.median() if len(themes) else value
    themes["priority"] = np.where(
        big & (themes["effort"] == "low"), "quick win", np.where(big, "strategic", "incremental")
    )
    par = pareto(themes, "revenue_lost_annual_usd", by="theme", target=target, unit="usd", period="year") \
        if value.sum() > 0 else None  # fmt: skip
    findings = insights.from_complaints_topics(themes)
    if par is not None:
        findings += par.findings
    # Themes found in the ticket text itself (the agents' category is right ~80 % of the time).
    text_topics = topics_from_warehouse(
        settings, start=start, n_topics=n_text_topics, random_state=0
    )
    findings += text_topics.findings
    return Result(
        name="complaint_themes",
        frame=themes.drop(columns=["provenance"]),
        provenance=prov.of(themes)
        if len(themes)
        else prov.of(load("complaints_topics", settings=settings)),
        findings=insights.rank(findings),
        summary={
            "window": f"last {days_back} days",
            "tickets": int(themes["tickets"].sum()),
            "themes": len(themes),
            "quick wins": ", ".join(themes.loc[themes["priority"] == "quick win", "theme"])
            or "none",
            "revenue lost to complainants' churn, annualised (USD)": float(value.sum()),
            "fastest growing": str(
                themes.sort_values("trend_pct", ascending=False)["theme"].iloc[0]
            )
            if len(themes)
            else "n/a",
        },
        tables={
            "pareto": par.frame if par is not None else pd.DataFrame(),
            "text_topics": text_topics.frame,
            "weekly": text_topics.tables.get("weekly", pd.DataFrame()),
        },
        _chart=(lambda r: par.chart()) if par is not None else None,
    )


# --- 3. production risk -------------------------------------------------------------------

Severity = Literal["critical", "high", "medium", "low"]


@_validated
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
    cost = pareto(shows, "cost_overrun_usd", by="show", target=target, unit="usd", period="year") \
        if len(shows) and shows["cost_overrun_usd"].sum() > 0 else None  # fmt: skip
    days_open, resolved = durations(issues)
    model = IssueDurationModel(features=["severity", "component"]).fit(issues, days_open, resolved)
    open_ = issues[issues["status"] != "done"].copy()
    if len(open_):
        age = (pd.Timestamp(issues.attrs["as_of"]) - open_["created"]).dt.total_seconds() / 86_400
        pred = model.predict(open_, levels=(0.5, 0.9), age_days=age.to_numpy())
        open_ = pd.concat([open_.reset_index(drop=True), pred.reset_index(drop=True)], axis=1)
    crit = open_[
        open_["severity"].isin(["critical", "high"]) & (open_["delay_days"] >= critical_delay_days)
    ]
    crit = crit.sort_values("delay_days", ascending=False)
    top3 = (
        float(delay.frame["cumulative_share"].iloc[min(2, len(delay.frame) - 1)])
        if len(delay.frame)
        else 0.0
    )
    findings = [*delay.findings, *(cost.findings if cost is not None else [])]
    for r in crit.head(3).itertuples():
        findings.append(
            Finding(
                title=f"{r.key} is {r.delay_days:.0f} days late",
                where=f"{r.component} / {r.team}",
                source="production_risk",
                action="assign an owner for unblocking and review scope within 48 h",
                provenance=p,
                evidence={"days past due": (float(r.delay_days), "days")},
                root_cause=str(r.root_cause).replace("_", " "),
                confidence="high",
            )
        )
    return Result(
        name="production_risk",
        frame=delay.frame,
        provenance=p,
        findings=insights.rank(findings),
        summary={
            "issues": len(issues),
            "open": len(open_),
            "on critical path": len(crit),
            f"delay held by the top 3 {by}s": f"{top3:.0%}",
            "concentration": delay.statement,
            "total delay (days)": float(issues["delay_days"].sum()),
            "total cost overrun (USD)": float(issues["cost_overrun_usd"].sum()),
        },
        tables={
            "cost_pareto": cost.frame if cost is not None else pd.DataFrame(),
            "critical_path": crit,
            "open_predictions": open_,
            "drilldown": delay.drilldown() if hasattr(delay, "drilldown") else pd.DataFrame(),
        },
        _chart=lambda r: delay.chart(),
    )


# --- 4. revenue forecast with constraints -------------------------------------------------

Scenario = Literal["conservative", "moderate", "aggressive"]
#: Share of each driver's lost revenue an initiative recovers, by scenario (assumptions).
SCENARIO_EFFECTIVENESS: dict[str, float] = {
    "conservative": 0.2,
    "moderate": 0.35,
    "aggressive": 0.5,
}
#: Assumed cost (USD) of acting on each churn driver for a year.
INITIATIVE_COST_USD: dict[str, float] = {
    "payment_failure": 120_000, "high_rebuffering": 450_000, "complaint_contact": 150_000,
    "low_engagement": 250_000, "price_increase": 300_000, "content_gap": 900_000,
}  # fmt: skip


@_validated
def forecast_revenue_with_constraints(
    budget: Annotated[float, Field(ge=0)] | None = None,
    months: Annotated[int, Field(ge=1, le=24)] = 12,
    scenario: Scenario = "moderate",
    level: Annotated[float, Field(gt=0.5, lt=1)] = 0.8,
    settings: Settings | None = None,
) -> Result:
    """Revenue forecast with intervals, and the initiative mix that recovers most within a budget.

    Parameters
    ----------
    budget
        Budget in USD for retention initiatives; ``None`` funds all of them.
    months
        Forecast and planning horizon.
    scenario
        How effective initiatives are assumed to be (share of each driver's lost
        revenue recovered: conservative 20 %, moderate 35 %, aggressive 50 %).
    level
        Prediction-interval level.

    Returns
    -------
    Result
        ``frame``: the daily revenue forecast (``yhat``, interval); ``tables``:
        ``plan`` (chosen initiatives, cost, recovered revenue with interval),
        ``initiatives``; findings for the plan and the gap.
    """
    days = round(months * 30.44)
    fc = forecast_revenue(settings, horizon=days, level=level)
    eff = SCENARIO_EFFECTIVENESS[scenario]
    total_cost = float(sum(INITIATIVE_COST_USD.values()))
    plan = _milp_plan(
        settings,
        budget_usd=total_cost if budget is None else budget,
        cost_usd=INITIATIVE_COST_USD,
        effectiveness=eff,
        effectiveness_sd=eff / 3,
        timeline_months=months,
        level=level,
    )
    frame = fc.frame
    horizon_total = float(frame["yhat"].sum())
    return Result(
        name="revenue_forecast",
        frame=frame,
        provenance=prov.combine([fc.provenance, plan.provenance]),
        findings=insights.rank([*fc.findings, *plan.findings]),
        summary={
            "horizon": f"{months} months",
            "scenario": f"{scenario} ({eff:.0%} of each driver's loss recovered)",
            "forecast revenue over the horizon (USD)": horizon_total,
            "budget (USD)": "unconstrained" if budget is None else budget,
            **{k: v for k, v in plan.summary.items()},
        },
        tables={
            "plan": plan.frame,
            **plan.tables,
            **{f"forecast_{k}": v for k, v in fc.tables.items()},
        },
        _chart=lambda r: fc.chart(),
    )


# --- 5. retention campaign ----------------------------------------------------------------


@_validated
def generate_retention_campaign(
    cohort: str = "top",
    budget: Annotated[float, Field(gt=0)] | None = None,
    timeline_days: Annotated[int, Field(ge=14, le=180)] = 45,
    cost_per_contact: Annotated[float, Field(gt=0, le=100)] = 2.5,
    control_share: Annotated[float, Field(ge=0.05, le=0.5)] = 0.2,
    settings: Settings | None = None,
) -> Result:
    """A campaign plan: target list scored by the churn model, control group, expected outcome.

    Parameters
    ----------
    cohort
        A ``churn_signals`` cohort id (``plan|region|tenure``), or ``"top"`` for the
        at-risk cohort with the most revenue at risk.
    budget
        Campaign budget in USD; limits how many subscribers are contacted (highest
        risk first). ``None`` contacts the whole cohort.
    timeline_days
        Campaign length (outcome window).
    cost_per_contact
        Cost per treated subscriber (USD).
    control_share
        Share of the target list held out as a randomised control group.

    Returns
    -------
    Result
        ``frame``: the target list (subscriber, churn risk, group); ``tables``:
        ``power`` (control/treatment sizes needed for 1-3 point uplifts), ``history``
        (past campaigns' measured uplift); findings: expected saves with interval, ROI.
    """
    cohorts = load("churn_signals", settings=settings, min_subscribers=0)
    if cohort == "top":
        ranked = cohorts[cohorts["is_at_risk"]] if cohorts["is_at_risk"].any() else cohorts
        cohort = str(ranked["cohort_id"].iloc[0])  # sorted by revenue at risk
    _check_cohort(cohorts, cohort)
    plan_name, region, tenure = cohort.split("|")
    months = load(
        "subscriber_months", settings=settings, start=_start(settings, 180), region=region
    )
    last = months["month"].max()
    train = months[months["month"] < last]
    if len(train) > _CAMPAIGN_MODEL_ROWS:  # ranking one cohort needs less data than driver effects
        train = train.sample(_CAMPAIGN_MODEL_ROWS, random_state=0)
    features = [
        c for c in months.columns if c not in ("subscriber_id", "month", "churned", "provenance")
    ]
    model = churn_model("logit", n_threads=1, constant="drop").fit(
        train[features], train["churned"].astype(int)
    )
    current = months[(months["month"] == last) & (months["plan"] == plan_name)]
    band = current["tenure_days"].map(_tenure_band)
    current = current[band == tenure]
    if current.empty:
        raise ParameterError(f"cohort {cohort!r} has no active subscribers in the latest month")
    risk = model.predict_proba(current[features])[:, 1]
    targets = pd.DataFrame(
        {"subscriber_id": current["subscriber_id"].to_numpy(), "churn_risk": risk}
    )
    targets = targets.sort_values(
        ["churn_risk", "subscriber_id"], ascending=[False, True], ignore_index=True
    )
    n_total = len(targets)
    n_treat_budget = int(budget // cost_per_contact) if budget is not None else n_total
    n_target = min(n_total, int(np.ceil(n_treat_budget / (1 - control_share))))
    targets = targets.head(n_target)
    rng = np.random.default_rng(20_261_031)
    targets["group"] = np.where(rng.random(len(targets)) < control_share, "control", "treatment")
    treated = int((targets["group"] == "treatment").sum())
    history = load("retention_campaigns", settings=settings)
    sig = history[history["is_significant"] & (history["uplift"] > 0)]
    ref = sig if len(sig) else history
    upl, lo_u, hi_u = (float(ref["uplift"].median()), float(ref["uplift_ci_low"].median()),
                       float(ref["uplift_ci_high"].median()))  # fmt: skip
    arpu = float(cohorts.set_index("cohort_id").loc[cohort, "monthly_revenue_usd"]) / max(
        float(cohorts.set_index("cohort_id").loc[cohort, "subscribers"]), 1.0
    )
    cost = treated * cost_per_contact
    saves = (upl * treated, max(lo_u, 0.0) * treated, hi_u * treated)
    revenue = tuple(s * arpu * 12 for s in saves)
    base_ret = float(1 - targets["churn_risk"].mean() * timeline_days / 30.44)
    power = campaign_sample_size(
        min(max(base_ret, 0.01), 0.99), [0.01, 0.02, 0.03], treated_share=1 - control_share
    )
    p = prov.combine([prov.of(cohorts), prov.of(months), prov.of(history)])
    finding = Finding(
        title=f"Campaign for {cohort}: about {saves[0]:.0f} subscribers saved",
        where=f"{treated} treated, {len(targets) - treated} control",
        source="retention_campaign",
        action=f"run for {timeline_days} days; measure retention against the control group",
        provenance=p,
        impact_usd=revenue[0],
        impact_subscribers=saves[0],
        evidence={
            "expected uplift (median of past significant campaigns)": (upl, "pct"),
            "saves, low end": (saves[1], ""),
            "saves, high end": (saves[2], ""),
            "cost (USD)": (cost, "usd"),
            "ROI": ((revenue[0] - cost) / cost if cost else 0.0, ""),
        },
        root_cause=f"mean predicted monthly churn risk in the target list {targets['churn_risk'].mean():.1%}",
        confidence="medium" if len(sig) >= 2 else "low",
    )
    return Result(
        name="retention_campaign",
        frame=targets,
        provenance=p,
        findings=[finding],
        summary={
            "cohort": cohort,
            "subscribers in cohort": n_total,
            "targeted": len(targets),
            "treated": treated,
            "control": int(len(targets) - treated),
            "budget used (USD)": cost,
            "expected saves (low-mid-high)": f"{saves[1]:.0f} - {saves[0]:.0f} - {saves[2]:.0f}",
            "expected revenue saved per year (USD)": revenue[0],
        },
        tables={"power": power, "history": history},
        _chart=_risk_chart,
    )


def _tenure_band(days: float) -> str:
    return "0-3m" if days < 91 else "3-12m" if days < 365 else "1-2y" if days < 730 else "2y+"


def _risk_chart(result: Result) -> Any:
    import altair as alt

    data = result.frame.assign(churn_risk=result.frame["churn_risk"].astype(float))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("churn_risk:Q", bin=alt.Bin(maxbins=30), title="predicted monthly churn risk"),
            y=alt.Y("count():Q", title="subscribers"),
            color=alt.Color("group:N"),
        )
        .properties(title="Target list by churn risk", width=500, height=220)
    )


# --- executive summary and service health -------------------------------------------------


@_validated
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
        Restrict subscriber KPIs to a region / plan.
    top_findings
        How many findings to keep.
    """
    filters: dict[str, Any] = {
        k: v for k, v in (("region", region), ("plan", plan)) if v is not None
    }
    kpis = load("kpi_summary", settings=settings, start=_start(settings, days), **filters)
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
    return Result(
        name="executive_summary",
        frame=kpis.drop(columns=["provenance"]),
        provenance=p,
        findings=ranked,
        summary={
            "window": f"last {days} days"
            + (f", region {region}" if region else "")
            + (f", plan {plan}" if plan else ""),
            **{r.label: _kpi_text(r.value, r.unit) for r in kpis.itertuples()},
            "vital few": "; ".join(
                f"{d}: {', '.join(g['item'].head(3))}"
                for d, g in vital.groupby("dimension", sort=False)
            ),
        },
        tables={"pareto": par, "findings": insights.findings_table(ranked)},
        _chart=lambda r: _pareto_overview(par),
    )


def _kpi_text(value: float, unit: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return {"usd": f"${value:,.0f}", "fraction": f"{value:.2%}", "score": f"{value:.1f}"}.get(
        unit, f"{value:,.0f}"
    )


def _pareto_overview(par: pd.DataFrame) -> Any:
    import altair as alt

    data = par[par["rank"] <= 10].assign(share_pct=lambda d: d["share"] * 100)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("share_pct:Q", title="share of the dimension's total (%)"),
            y=alt.Y("item:N", sort="-x", title=None),
            color=alt.Color("is_vital_few:N", title="vital few"),
            row=alt.Row("dimension:N", title=None),
            tooltip=["dimension", "item", "value", "unit", "share", "cumulative_share"],
        )
        .resolve_scale(y="independent")
        .properties(width=420, title="The vital few in each domain")
    )


@_validated
def service_health(
    days: Annotated[int, Field(ge=1, le=30)] = 7,
    resolution: Literal["1min", "5min", "15min", "1h"] = "5min",
    include_qoe: bool = True,
    settings: Settings | None = None,
) -> Result:
    """Anomalies in APM and streaming-QoE series per service, with Dynatrace problems.

    See :func:`opskit.health.service_health`.
    """
    end = pd.Timestamp(load("kpi_summary", settings=settings).attrs["as_of"])
    return _service_health(start=end - pd.Timedelta(days=days), end=end, resolution=resolution,
                           include_qoe=include_qoe, settings=settings)  # fmt: skip


#: Every analysis by report/tool name.
ANALYSES: dict[str, Callable[..., Result]] = {
    "churn_root_cause": analyze_churn_root_cause,
    "complaint_themes": analyze_complaint_themes,
    "production_risk": analyze_production_risk,
    "revenue_forecast": forecast_revenue_with_constraints,
    "retention_campaign": generate_retention_campaign,
    "executive_summary": executive_summary,
    "service_health": service_health,
}
