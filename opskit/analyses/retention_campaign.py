"""A retention campaign plan: target list scored by the churn model, control group, expected value."""

from __future__ import annotations

from typing import Annotated, Any

import altair as alt
import numpy as np
import pandas as pd
from pydantic import Field

from opskit import provenance as prov
from opskit.analyses._common import check_cohort, start_of, tenure_band, validated
from opskit.analytics._result import Finding, Result, TableSpec
from opskit.analytics.churn import churn_model
from opskit.analytics.churn.campaigns import campaign_sample_size
from opskit.analytics.decisions import campaign_value
from opskit.catalog import load
from opskit.config import Settings
from opskit.errors import ParameterError
from opskit.metrics import MONTH_DAYS, subscription_value
from opskit.present import fmt, humanize

__all__ = ["generate_retention_campaign"]

#: Subscriber-months the ranking model is fitted on (ranking one cohort needs few).
MODEL_ROWS = 30_000
#: Columns of ``subscriber_months`` that are not model features.
_NOT_FEATURES = ("subscriber_id", "month", "churned", "provenance", "price_usd")


@validated
def generate_retention_campaign(
    cohort: str = "top",
    budget: Annotated[float, Field(gt=0, le=1e9)] | None = None,
    timeline_days: Annotated[int, Field(ge=14, le=180)] = 45,
    cost_per_contact: Annotated[float, Field(gt=0, le=100)] = 2.5,
    control_share: Annotated[float, Field(ge=0.05, le=0.5)] = 0.2,
    settings: Settings | None = None,
) -> Result:
    """A campaign plan: target list scored by the churn model, control group, expected value.

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
        (past campaigns' measured uplift); the finding says whether the campaign is
        expected to pay back (expected saves x the value of a save, against its cost,
        with the interval of past uplifts) and what to do if it does not.
    """
    cohorts = load("churn_signals", settings=settings, min_subscribers=0)
    if cohort == "top":
        ranked = cohorts[cohorts["is_at_risk"]] if cohorts["is_at_risk"].any() else cohorts
        cohort = str(ranked["cohort_id"].iloc[0])  # sorted by revenue at risk
    check_cohort(cohorts, cohort)
    plan_name, region, tenure = cohort.split("|")
    months = load(
        "subscriber_months", settings=settings, start=start_of(settings, 180), region=region
    )
    last = months["month"].max()
    train = months[months["month"] < last]
    if len(train) > MODEL_ROWS:
        train = train.sample(MODEL_ROWS, random_state=0)
    # One region by construction: it is not a feature here.
    features = [c for c in months.columns if c not in (*_NOT_FEATURES, "region")]
    model = churn_model("logit", n_threads=1, constant="drop").fit(
        train[features], train["churned"].astype(int)
    )
    current = months[(months["month"] == last) & (months["plan"] == plan_name)]
    current = current[current["tenure_days"].map(tenure_band) == tenure]
    if current.empty:
        raise ParameterError(f"cohort {cohort!r} has no active subscribers in the latest month")
    risk = model.predict_proba(current[features])[:, 1]
    targets = pd.DataFrame(
        {"subscriber_id": current["subscriber_id"].to_numpy(), "churn_risk": risk}
    ).sort_values(["churn_risk", "subscriber_id"], ascending=[False, True], ignore_index=True)
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
    row = cohorts.set_index("cohort_id").loc[cohort]
    arpu = float(row["monthly_revenue_usd"]) / max(float(row["subscribers"]), 1.0)
    value = campaign_value(
        treated, upl, max(lo_u, 0.0), hi_u,
        value_per_save_usd=subscription_value(arpu), cost_usd=treated * cost_per_contact,
    )  # fmt: skip
    base_ret = float(1 - targets["churn_risk"].mean() * timeline_days / MONTH_DAYS)
    power = campaign_sample_size(
        min(max(base_ret, 0.01), 0.99), [0.01, 0.02, 0.03], treated_share=1 - control_share
    )
    p = prov.combine([prov.of(cohorts), prov.of(months), prov.of(history)])
    finding = _decision(value, cohort, treated, len(targets) - treated, timeline_days,
                        upl, len(sig), targets, p)  # fmt: skip
    name = humanize(cohort)
    return Result(
        name="retention_campaign",
        title="Retention campaign plan",
        headline=(
            f"A {timeline_days}-day campaign for {name} contacts {fmt(treated, 'count')} subscribers "
            f"for {fmt(value.cost_usd, 'usd')} and is expected to save {fmt(value.saves, 'count')} "
            f"({fmt(value.saves_low, 'count')}-{fmt(value.saves_high, 'count')}), worth "
            f"{fmt(value.revenue_usd, 'usd')}: "
            + (
                "it pays back."
                if value.pays_back
                else "it does not pay back at this cost per contact."
            )
        ),
        frame=targets,
        provenance=p,
        findings=[finding],
        summary={
            "cohort": cohort,
            "cohort_subscribers": n_total,
            "targeted": len(targets),
            "treated": treated,
            "control": int(len(targets) - treated),
            "campaign_cost_usd": value.cost_usd,
            "expected_saves": value.saves,
            "saves_low": value.saves_low,
            "saves_high": value.saves_high,
            "revenue_saved_usd": value.revenue_usd,
            "net_value_usd": value.net_usd,
            "breakeven_uplift": value.breakeven_uplift,
        },
        tiles=(
            "treated",
            "campaign_cost_usd",
            "expected_saves",
            "revenue_saved_usd",
            "net_value_usd",
        ),
        tables={"power": power, "history": history},
        shown=(
            TableSpec(
                "frame",
                "Target list, highest churn risk first",
                ("subscriber_id", "churn_risk", "group"),
                name="target-list",
            ),
            TableSpec(
                "power",
                "Subscribers needed to detect an uplift (80 % power, 5 % significance)",
                ("uplift", "treated", "control", "total"),
                units={"uplift": "pp"},
            ),
            TableSpec(
                "history",
                "Past campaigns against their control groups",
                (
                    "name",
                    "segment",
                    "treated",
                    "uplift",
                    "uplift_ci_low",
                    "uplift_ci_high",
                    "p_value",
                    "budget_usd",
                    "revenue_saved_annual_usd",
                    "roi",
                ),
            ),
        ),
        _chart=_risk_chart,
    )


def _decision(
    value: Any, cohort: str, treated: int, control: int, days: int, uplift: float,
    n_significant: int, targets: pd.DataFrame, p: prov.Provenance,
) -> Finding:  # fmt: skip
    """Run it (it pays back), or what to change (it does not)."""
    evidence: dict[str, tuple[float, str]] = {
        "expected uplift (median of past significant campaigns)": (uplift, "pp"),
        "uplift needed to break even": (value.breakeven_uplift, "pp"),
        "saves, low end": (value.saves_low, "count"),
        "saves, high end": (value.saves_high, "count"),
        "cost": (value.cost_usd, "usd"),
        "net value, low end": (value.net_low_usd, "usd"),
        "net value, high end": (value.net_high_usd, "usd"),
    }
    common = {
        "where": f"{fmt(treated, 'count')} treated, {fmt(control, 'count')} control",
        "source": "retention_campaign", "provenance": p, "impact_subscribers": value.saves,
        "impact_usd": value.net_usd, "impact_period": "net, once for the campaign",
        "impact_usd_per_year": value.net_usd, "evidence": evidence,
        "root_cause": f"mean predicted monthly churn risk in the target list {fmt(targets['churn_risk'].mean(), 'fraction')}",
        "confidence": "medium" if n_significant >= 2 and value.net_low_usd > 0 else "low",
    }  # fmt: skip
    if value.pays_back:
        caveat = (
            "" if value.net_low_usd >= 0
            else f"; at the low end of past uplifts it loses {fmt(-value.net_low_usd, 'usd')}, so keep the control group to find out"
        )  # fmt: skip
        return Finding(
            title=f"Run the campaign for {humanize(cohort)}: {fmt(value.net_usd, 'usd')} expected net value",
            action=f"run it for {days} days and measure retention against the control group{caveat}",
            **common,
        )
    return Finding(
        title=f"Do not run the campaign for {humanize(cohort)} as planned: it loses {fmt(-value.net_usd, 'usd')}",
        action=(
            f"it needs an uplift of {fmt(value.breakeven_uplift, 'pp')} to break even against "
            f"{fmt(uplift, 'pp')} expected: cut the cost per contact, or target a cohort with more "
            "revenue per subscriber"
        ),
        **common,
    )


def _risk_chart(result: Result) -> Any:
    data = result.frame.assign(risk_pct=result.frame["churn_risk"].astype(float) * 100)
    top = float(data["risk_pct"].quantile(0.9)) if len(data) else float("nan")
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("risk_pct:Q", bin=alt.Bin(maxbins=30), title="Predicted monthly churn risk (%)"),
            y=alt.Y("count():Q", title="Subscribers (count)"),
            color=alt.Color("group:N", title="group", scale=alt.Scale(domain=["treatment", "control"],
                            range=["#0969da", "#9ca3af"])),
        )
        .properties(
            title="Target list by predicted churn risk", width=500, height=220,
            description=(
                f"Histogram of the {len(data):,} subscribers on the target list by predicted monthly "
                f"churn risk, treatment and control; a tenth of them are above {fmt(top, 'percent')}."
            ),
        )
    )  # fmt: skip
