"""Revenue outlook with intervals, and the initiative mix that pays back most within a budget."""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from pydantic import Field

from opskit import provenance as prov
from opskit.analyses._common import validated
from opskit.analytics._result import Result, TableSpec
from opskit.analytics.churn import driver_frame, driver_losses
from opskit.analytics.decisions import (
    INITIATIVE_COLUMNS,
    Objective,
    initiatives_from_plans,
    optimise_initiatives,
)
from opskit.analytics.forecast import forecast_revenue
from opskit.catalog import load
from opskit.config import Settings
from opskit.metrics import MONTH_DAYS
from opskit.present import fmt

__all__ = ["SCENARIO_SHIFT", "Scenario", "forecast_revenue_with_constraints"]

Scenario = Literal["conservative", "moderate", "aggressive"]
#: How far each scenario moves every initiative's effect, in its standard deviations.
SCENARIO_SHIFT: dict[str, float] = {"conservative": -1.0, "moderate": 0.0, "aggressive": 1.0}
#: USD amounts above this are not budgets (a typo, or an overflow).
MAX_BUDGET_USD = 1e10
#: The drivers' losses are counted on this many last complete months (effects: all history).
RECENT_MONTHS = 3


@validated
def forecast_revenue_with_constraints(
    budget: Annotated[float, Field(ge=0, le=MAX_BUDGET_USD)] | None = None,
    months: Annotated[int, Field(ge=1, le=24)] = 12,
    scenario: Scenario = "moderate",
    level: Annotated[float, Field(gt=0.5, lt=1)] = 0.8,
    objective: Objective = "net_value",
    settings: Settings | None = None,
) -> Result:
    """Revenue forecast with intervals, and the initiative mix that pays back most within a budget.

    Parameters
    ----------
    budget
        Budget in USD for retention initiatives; ``None`` sets no limit (only
        initiatives that pay back are funded).
    months
        Forecast and planning horizon.
    scenario
        How effective initiatives turn out: ``moderate`` takes each planned effect
        as expected, ``conservative`` one standard deviation lower, ``aggressive``
        one higher.
    level
        Prediction-interval level.
    objective
        ``net_value`` (recovered minus spent, the default) or ``recovered``
        (maximise recovered revenue whatever it costs; the answer says when that
        loses money).

    Returns
    -------
    Result
        ``frame``: the daily revenue forecast (``yhat``, interval); ``tables``:
        ``plan`` (every candidate initiative: cost, recovery, net value, ROI,
        payback, whether funded), ``monthly`` (the forecast by month); findings: the
        funding decision and the forecast.
    """
    days = round(months * MONTH_DAYS)
    fc = forecast_revenue(settings, horizon=days, level=level)
    history = load("subscriber_months", settings=settings)
    losses = driver_losses(driver_frame(history), recent_months=RECENT_MONTHS)
    plans = load("initiatives", settings=settings)
    items = initiatives_from_plans(
        plans, losses, timeline_months=months, effect_shift_sd=SCENARIO_SHIFT[scenario]
    )
    plan = optimise_initiatives(
        items,
        budget,
        objective=objective,
        timeline_months=months,
        baseline_loss_usd=float(losses["revenue_lost_per_month_usd"].sum()) * months,
        level=level,
        provenance=prov.combine([prov.of(history), prov.of(plans)]),
    )
    names = plans.set_index("initiative_id")["name"]
    plan_frame = plan.frame.assign(name=plan.frame["initiative"].map(names))
    frame = fc.frame
    total = float(frame["yhat"].sum())
    monthly = _monthly(frame)
    s = plan.summary
    decision = plan.findings[0].title
    headline = (
        f"Revenue is forecast at {fmt(total, 'usd')} over the next {months} months "
        f"({fmt(frame['yhat'].iloc[-1], 'usd')} a day at the end). {decision}."
    )
    return Result(
        name="revenue_forecast",
        title="Revenue forecast and initiative plan",
        headline=headline,
        frame=frame,
        provenance=prov.combine([fc.provenance, plan.provenance]),
        findings=[*plan.findings, *fc.findings],  # the decision first, then the outlook
        summary={
            "horizon_months": months,
            "scenario": scenario,
            "forecast_revenue_usd": total,
            "model": fc.summary["model"],
            "budget_usd": s["budget_usd"],
            "spent_usd": s["spent_usd"],
            "recovered_usd": s["recovered_usd"],
            "net_value_usd": s["net_value_usd"],
            "net_low_usd": s["net_low_usd"],
            "net_high_usd": s["net_high_usd"],
            "selected": s["selected"] or "none",
            "paying_initiatives": s["paying_initiatives"],
            "baseline_loss_usd": s["baseline_loss_usd"],
        },
        notes=[
            f"Forecast model: {fc.summary['model']}, chosen for its {fc.summary['model_reason']}.",
            f"Each initiative recovers its expected share of the cancellations its churn driver "
            f"causes ({fmt(float(losses['revenue_lost_per_month_usd'].sum()), 'usd')} a month in "
            f"the last {int(losses.attrs['months'])} months, from a churn model of the whole "
            "history), each cancellation valued at a year of the subscriber's price.",
        ],
        tiles=("forecast_revenue_usd", "budget_usd", "spent_usd", "recovered_usd", "net_value_usd"),
        tables={
            "plan": plan_frame,
            "driver_losses": losses,
            "backtest": fc.tables.get("backtest", pd.DataFrame()),
            "monthly": monthly,
            **{f"forecast_{k}": v for k, v in fc.tables.items()},
        },
        shown=(
            TableSpec(
                "plan",
                "Candidate initiatives: cost, expected recovery and net value",
                INITIATIVE_COLUMNS,
            ),
            TableSpec(
                "backtest",
                "How the forecast model was chosen: five rolling 28-day backtests",
                ("model", "mase", "relative_mae", "coverage", "is_chosen"),
            ),
            TableSpec(
                "monthly",
                "Revenue forecast by month",
                (
                    "month_start",
                    "days_in_month",
                    "revenue_forecast_usd",
                    "revenue_low_usd",
                    "revenue_high_usd",
                ),
            ),
        ),
        _chart=lambda r: fc.chart(),
        charts={"plan": lambda r: plan.chart()},
    )


def _monthly(forecast: pd.DataFrame) -> pd.DataFrame:
    """The daily forecast summed by calendar month.

    The low and high columns sum the daily bounds: the range in which each day of the
    month falls at the interval's level, not an interval of the monthly total.
    """
    month = (
        pd.DatetimeIndex(forecast["timestamp"]).tz_convert("UTC").tz_localize(None).to_period("M")
    )
    g = forecast.groupby(month.to_timestamp().tz_localize("UTC"), sort=True)
    return pd.DataFrame(
        {
            "month_start": g["timestamp"].min().index,
            "days_in_month": g.size().to_numpy(),
            "revenue_forecast_usd": g["yhat"].sum().to_numpy(),
            "revenue_low_usd": g["yhat_lower"].sum().to_numpy(),
            "revenue_high_usd": g["yhat_upper"].sum().to_numpy(),
        }
    )
