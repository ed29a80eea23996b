"""Revenue and subscriber forecasts from the warehouse, with scenarios.

:func:`revenue_series` aggregates the warehouse table ``revenue`` to one value per day
*in the warehouse* (Ibis), and :func:`forecast_revenue` forecasts it with an
:class:`~opskit.analytics.forecast.ETSForecaster` (revenue measures use the
``days_in_month`` adjustment, because subscription revenue is recognised as monthly price
/ days in the month). :class:`Scenario` s (a price change, a churn reduction) are applied
to the baseline forecast as multipliers, so their effect is explicit and auditable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from opskit import provenance as prov
from opskit.analytics._result import Finding, Result
from opskit.analytics.forecast._base import BaseForecaster
from opskit.analytics.forecast.backtest import BASELINE, backtest
from opskit.analytics.forecast.chart import forecast_chart
from opskit.analytics.forecast.models import MEAN_MONTH_DAYS, ETSForecaster
from opskit.cache import ResultCache, content_digest, memoised_frame
from opskit.catalog import warehouse_provenance
from opskit.config import Settings, load_settings
from opskit.datasets.business import total_revenue
from opskit.metrics import per_year
from opskit.present.units import fmt
from opskit.warehouse import open_warehouse

__all__ = [
    "MEASURES",
    "Scenario",
    "apply_scenarios",
    "candidate_forecasters",
    "choose_forecaster",
    "describe_model",
    "forecast_revenue",
    "revenue_series",
]

#: Each measure in words (chart titles).
_MEASURE_TEXT = {
    "revenue": "Revenue",
    "subscription_revenue": "Subscription revenue",
    "ad_revenue": "Advertising revenue",
    "transactional_revenue": "Rentals and pay-per-view revenue",
    "subscribers": "Active subscribers",
}
#: Measure name -> whether it is money (USD).
MEASURES = {
    "revenue": True,
    "subscription_revenue": True,
    "ad_revenue": True,
    "transactional_revenue": True,
    "subscribers": False,
}


def revenue_series(
    settings: Settings | None = None,
    *,
    measure: str = "revenue",
    plan: str | Sequence[str] | None = None,
    region: str | Sequence[str] | None = None,
) -> pd.Series:
    """One value per day from the warehouse table ``revenue``, aggregated in the warehouse.

    Parameters
    ----------
    settings
        opskit settings (default: read from the environment).
    measure
        ``revenue`` (subscription + ads + transactional, USD), ``subscription_revenue``,
        ``ad_revenue``, ``transactional_revenue`` or ``subscribers`` (active subscribers).
    plan, region
        Optional filters (one value or several).

    Returns
    -------
    pd.Series
        float64 on a daily UTC ``DatetimeIndex`` named ``timestamp``, named ``measure``;
        ``attrs["provenance"]`` from the warehouse build.

    Raises
    ------
    ValueError
        For an unknown measure, or filters that leave no rows.
    """
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of {list(MEASURES)}")
    wh = open_warehouse(settings)
    try:
        t = wh.table("revenue")
        for col, val in (("plan", plan), ("region", region)):
            if val is not None:
                t = t.filter(t[col].isin([val] if isinstance(val, str) else list(val)))
        value = {
            "revenue": total_revenue(t),
            "subscription_revenue": t.subscription_revenue_usd,
            "ad_revenue": t.ad_revenue_usd,
            "transactional_revenue": t.transactional_revenue_usd,
            "subscribers": t.active_subscribers.cast("float64"),
        }[measure]
        expr = t.group_by("date").aggregate(value=value.sum()).order_by("date")
        df = expr.to_pandas()
        p = warehouse_provenance(wh)
    finally:
        wh.close()
    if df.empty:
        raise ValueError(f"no revenue rows for plan={plan!r}, region={region!r}")
    index = pd.DatetimeIndex(pd.to_datetime(df["date"]), name="timestamp")
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    out = pd.Series(df["value"].to_numpy(dtype=float), index=index, name=measure)
    out.attrs[prov.ATTR] = p.to_dict()
    return out


@dataclass(frozen=True)
class Scenario:
    """A what-if applied to a baseline forecast as a multiplier per day.

    Parameters
    ----------
    name
        Label of the scenario.
    price_change
        Relative list-price change (0.1 = +10 %) from ``start``.
    price_share
        Share of the forecast measure the price change applies to (e.g. the revenue share
        of the plan being repriced); 0 for a subscriber forecast.
    churn_reduction
        Share of monthly churn avoided from ``start`` (0.2 = a fifth fewer cancellations).
    monthly_churn
        The baseline monthly churn rate the reduction acts on (e.g. from the
        ``churn_signals`` dataset).
    start
        First day of the effect (default: the first forecast day).

    Notes
    -----
    Retained subscribers compound: after ``d`` days the base is larger by
    ``((1 - c (1 - r)) / (1 - c)) ** (d / 30.44)`` for monthly churn ``c`` and reduction
    ``r``. The scenario is treated as known, so the interval is scaled by the same
    multiplier (no extra uncertainty about the effect itself).
    """

    name: str
    price_change: float = 0.0
    price_share: float = 1.0
    churn_reduction: float = 0.0
    monthly_churn: float = 0.0
    start: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        if self.price_change <= -1:
            raise ValueError(f"price_change must be > -1, got {self.price_change}")
        for field, value in (
            ("price_share", self.price_share),
            ("churn_reduction", self.churn_reduction),
            ("monthly_churn", self.monthly_churn),
        ):
            if not 0.0 <= value <= 1.0 or math.isnan(value):
                raise ValueError(f"{field} must be in [0, 1], got {value}")
        if self.monthly_churn >= 1.0:
            raise ValueError("monthly_churn must be below 1")

    def multiplier(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The factor applied to each forecast day."""
        start = pd.Timestamp(self.start) if self.start is not None else index[0]
        if start.tzinfo is None and index.tz is not None:
            start = start.tz_localize(index.tz)
        days = np.maximum((index - start) / pd.Timedelta(days=1) + 1.0, 0.0)
        active = np.asarray(days > 0)
        c, r = self.monthly_churn, self.churn_reduction
        growth = ((1 - c * (1 - r)) / (1 - c)) ** (np.asarray(days) / MEAN_MONTH_DAYS)
        price = 1.0 + self.price_change * self.price_share
        return np.where(active, growth * price, 1.0)


def apply_scenarios(forecast: pd.DataFrame, scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """The baseline ForecastFrame plus one scaled copy per scenario, with a ``scenario`` column."""
    parts = [forecast.assign(scenario="baseline")]
    index = pd.DatetimeIndex(forecast["timestamp"])
    for sc in scenarios:
        mult = sc.multiplier(index)
        part = forecast.assign(scenario=sc.name)
        for col in ("yhat", "yhat_lower", "yhat_upper"):
            part[col] = part[col].to_numpy() * mult
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out.attrs = dict(forecast.attrs)
    return out


def forecast_revenue(
    settings: Settings | None = None,
    *,
    measure: str = "revenue",
    horizon: int = 90,
    level: float = 0.8,
    plan: str | Sequence[str] | None = None,
    region: str | Sequence[str] | None = None,
    forecaster: BaseForecaster | None = None,
    scenarios: Sequence[Scenario] = (),
) -> Result:
    """Forecast daily revenue or subscribers from the warehouse, with scenarios.

    Parameters
    ----------
    settings
        opskit settings (default: from the environment).
    measure
        See :func:`revenue_series`.
    horizon
        Days to forecast.
    level
        Prediction-interval level (0.8 or 0.95 typically).
    plan, region
        Optional filters.
    forecaster
        Model to use. Default: the candidate with the lowest rolling-origin MASE
        (:func:`choose_forecaster`): exponential smoothing with the weekly cycle the data
        show, or without a cycle (both with the ``days_in_month`` adjustment for money).
    scenarios
        What-ifs applied to the baseline (see :class:`Scenario`).

    Returns
    -------
    Result
        ``frame``: the ForecastFrame of the baseline; ``tables["scenarios"]``: baseline
        and scenarios with a ``scenario`` column; ``tables["history"]``: the observed
        series; ``tables["backtest"]``: each candidate's MASE, relative MAE against
        seasonal naive and interval coverage (when the model was chosen here);
        ``summary``: the model and why, totals over the horizon; ``chart()``: history,
        forecasts and bands.
    """
    history = revenue_series(settings, measure=measure, plan=plan, region=region)
    money = MEASURES[measure]
    choice: pd.DataFrame | None = None
    if forecaster is None:
        candidates = candidate_forecasters(money)
        store = ResultCache.for_settings(settings or load_settings())
        choice = memoised_frame(
            store, "forecast_choice", {"series": content_digest(history), "level": level, "money": money},
            lambda: choose_forecaster(history, money=money, level=level)[1], keep=16,
        )  # fmt: skip
        chosen = (
            choice.loc[choice["is_chosen"], "candidate"] if len(choice) else pd.Series(["seasonal"])
        )
        model = candidates[str(chosen.iloc[0])]
    else:
        model = forecaster
    fc = model.fit(history).predict(horizon, level)
    all_fc = apply_scenarios(fc, scenarios)
    p = prov.of(history)
    unit = "usd" if money else "count"
    totals = all_fc.groupby("scenario", sort=False)["yhat"].agg("sum" if money else "last")
    what = f"total {measure} over {horizon} days" if money else f"{measure} after {horizon} days"
    last_obs = float(history.iloc[-30:].sum() / 30 * horizon) if money else float(history.iloc[-1])
    findings = [
        Finding(
            title=f"Baseline forecast: {what}",
            where=_scope(plan, region),
            source="forecast",
            action="plan against the interval, not the point forecast",
            provenance=p,
            impact_subscribers=None if money else float(totals["baseline"]),
            impact_period=f"after {horizon} days",
            evidence={
                f"forecast total over {horizon} days" if money else "forecast at the horizon": (
                    float(totals["baseline"]),
                    unit,
                ),
                "last-day forecast": (float(fc["yhat"].iloc[-1]), unit),
                "last-day lower bound": (float(fc["yhat_lower"].iloc[-1]), unit),
                "last-day upper bound": (float(fc["yhat_upper"].iloc[-1]), unit),
                "change vs current run-rate": (
                    float(totals["baseline"]) / last_obs - 1,
                    "fraction",
                ),
            },
            confidence="medium",
        )
    ]
    for sc in scenarios:
        delta = float(totals[sc.name] - totals["baseline"])
        findings.append(
            Finding(
                title=f"Scenario '{sc.name}' changes {what}",
                where=_scope(plan, region),
                source="forecast",
                action="compare with the cost of the change",
                provenance=p,
                impact_usd=delta if money else None,
                impact_period=f"over the {horizon}-day horizon",
                impact_usd_per_year=per_year(delta, horizon) if money else None,
                impact_subscribers=None if money else delta,
                evidence={"relative change": (delta / float(totals["baseline"]), "fraction")},
                confidence="low",
            )
        )
    findings.sort(key=lambda f: -abs(f.stake_usd_per_year or 0.0))
    summary: dict[str, Any] = {
        "measure": measure,
        "model": describe_model(str(fc["model"].iloc[0])),
        "model_reason": _reason(choice, str(fc["model"].iloc[0]), len(history)),
        "horizon_days": horizon,
        "level": level,
        **{f"{what} ({k})": float(v) for k, v in totals.items()},
    }
    return Result(
        name="revenue_forecast",
        frame=fc,
        provenance=p,
        findings=findings,
        summary=summary,
        tables={
            "scenarios": all_fc,
            "history": history.rename("value").reset_index(),
            **({"backtest": choice} if choice is not None else {}),
        },
        _chart=lambda r: forecast_chart(
            history,
            r.tables["scenarios"],
            title=f"{_MEASURE_TEXT[measure]} forecast",
            value_title=f"{_MEASURE_TEXT[measure]} per day (USD)"
            if money
            else f"{_MEASURE_TEXT[measure]} (count)",
            unit="usd" if money else "count",
        ),
    )


#: Rolling-origin backtest of the candidates: origins x days ahead, origins two weeks apart.
CHOICE_ORIGINS, CHOICE_HORIZON, CHOICE_STEP = 5, 28, 14


def candidate_forecasters(money: bool = True) -> dict[str, BaseForecaster]:
    """The forecasters :func:`choose_forecaster` compares, by name (unfitted)."""
    adjust = "days_in_month" if money else None
    return {
        "seasonal": ETSForecaster(adjust=adjust),
        "no_cycle": ETSForecaster(adjust=adjust, period=None),
    }


def choose_forecaster(
    history: pd.Series, *, money: bool = True, level: float = 0.8
) -> tuple[BaseForecaster, pd.DataFrame]:
    """The candidate with the lowest rolling-origin MASE, and every candidate's backtest.

    Candidates: exponential smoothing with the cycle the data show (weekly for daily
    data, when its STL strength is high enough) and exponential smoothing without a
    cycle; money is modelled per 30.44-day month (``days_in_month``). Seasonal naive is
    the baseline every candidate is measured against. A series too short for the
    backtest gets the first candidate and an empty table.

    Returns
    -------
    tuple
        The chosen (unfitted) forecaster and a table: ``candidate``, ``model`` (in
        words) and ``label`` (as fitted on the full history), ``mase``, ``relative_mae``
        (vs seasonal naive), ``coverage``, ``is_chosen``.
    """
    candidates = candidate_forecasters(money)
    try:
        bt = backtest(history, candidates, horizon=CHOICE_HORIZON, origins=CHOICE_ORIGINS,
                      step=CHOICE_STEP, level=level)  # fmt: skip
    except ValueError:  # too short to backtest: take the seasonal candidate as it is
        return candidates["seasonal"], pd.DataFrame(
            columns=["candidate", "model", "label", "mase", "relative_mae", "coverage", "is_chosen"]
        )
    summary = bt.tables["summary"].copy()
    summary["candidate"] = summary["model"]
    fitted = {name: f.clone().fit(history).model_ for name, f in candidates.items()}
    summary["label"] = summary["candidate"].map(lambda c: fitted.get(c, "seasonal_naive[7]"))
    summary["model"] = summary["label"].map(describe_model)
    ranked = summary[summary["candidate"].isin(list(candidates))].sort_values("mase", kind="stable")
    best = str(ranked["candidate"].iloc[0])
    summary["is_chosen"] = summary["candidate"] == best
    cols = ["candidate", "model", "label", "mase", "relative_mae", "coverage", "is_chosen"]
    return candidates[best], summary[cols].reset_index(drop=True)


def describe_model(label: str) -> str:
    """An ETS label in words: ``ets(A,Ad,A)[7]/days_in_month`` -> ``exponential smoothing ...``.

    >>> describe_model("ets(A,Ad,A)[7]/days_in_month")
    'exponential smoothing with a damped trend and a weekly cycle, per 30.44-day month'
    >>> describe_model("seasonal_naive[7]")
    'the value a week earlier (seasonal naive)'
    """
    if label.startswith("seasonal_naive"):
        return "the value a week earlier (seasonal naive)" if "[7]" in label else "seasonal naive"
    if label == "naive":
        return "the last value (naive)"
    m = re.search(r"ets\(A,(N|A|Ad),(N|A)\)(?:\[(\d+)\])?", label)
    if m is None:
        return label
    trend = {"N": "", "A": "a trend", "Ad": "a damped trend"}[m.group(1)]
    cycle = ""
    if m.group(2) == "A" and m.group(3):
        cycle = {"7": "a weekly cycle", "24": "a daily cycle"}.get(
            m.group(3), f"a {m.group(3)}-step cycle"
        )
    parts = [p for p in (trend, cycle) if p]
    text = "exponential smoothing " + (
        "with " + " and ".join(parts) if parts else "without trend or cycle"
    )
    return text + (", per 30.44-day month" if "days_in_month" in label else "")


def _reason(choice: pd.DataFrame | None, label: str, n: int) -> str:
    """Why this model: its backtest against the other candidate and seasonal naive."""
    yearly = (
        "; a yearly cycle is not modelled: "
        f"{n} days of history, two years are needed to tell it from the trend"
        if n < 2 * 365
        else ""
    )
    if choice is None or choice.empty:
        return "the model given" + yearly
    chosen = choice[choice["is_chosen"]].iloc[0]
    others = choice[~choice["is_chosen"] & (choice["candidate"] != BASELINE)]
    naive = choice[choice["candidate"] == BASELINE]
    text = (
        f"lowest error in {CHOICE_ORIGINS} rolling {CHOICE_HORIZON}-day backtests: MASE "
        f"{chosen['mase']:.2f}"
        + (
            f" against {others['mase'].iloc[0]:.2f} for {others['model'].iloc[0]}"
            if len(others)
            else ""
        )
        + (f" and {naive['mase'].iloc[0]:.2f} for seasonal naive" if len(naive) else "")
        + f"; {fmt(float(chosen['coverage']), 'fraction')} of actuals inside its interval"
    )
    return text + yearly


def _scope(plan: Any, region: Any) -> str:
    parts = [
        f"plan {plan}" if plan else "all plans",
        f"region {region}" if region else "all regions",
    ]
    return ", ".join(parts)
