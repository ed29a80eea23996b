"""Revenue/subscriber forecasts on the demo warehouse: backtest skill, scenarios, result shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opskit import provenance as prov
from opskit.analytics.forecast import (
    ETSForecaster,
    Scenario,
    backtest,
    forecast_revenue,
    revenue_series,
)


@pytest.fixture()
def revenue(settings) -> pd.Series:
    return revenue_series(settings, measure="revenue")


def test_revenue_series_is_daily_with_demo_provenance(revenue):
    assert len(revenue) == 365
    assert revenue.index.tz is not None
    assert (revenue.index.to_series().diff().dropna() == pd.Timedelta(days=1)).all()
    assert prov.of(revenue).kind == "demo"
    assert (revenue > 0).all()


def test_filters_narrow_the_series(settings, revenue):
    one = revenue_series(settings, measure="revenue", region="us")
    assert (one < revenue).all()
    with pytest.raises(ValueError, match="unknown measure"):
        revenue_series(settings, measure="profit")


def test_ets_beats_seasonal_naive_on_demo_revenue(revenue):
    res = backtest(
        revenue, {"ets": ETSForecaster(adjust="days_in_month")}, horizon=28, origins=5, step=14
    )
    summary = res.tables["summary"].set_index("model")
    assert summary.loc["ets", "mase"] < 1.0
    assert summary.loc["ets", "relative_mae"] < 1.0
    assert summary.loc["ets", "mase"] < summary.loc["seasonal_naive", "mase"]
    assert 0.5 <= summary.loc["ets", "coverage"] <= 1.0
    assert res.findings and "beats" in res.findings[0].text()
    res.chart().to_dict()


def test_forecast_revenue_result_with_scenarios(settings):
    scenarios = [
        Scenario("price +10%", price_change=0.1, price_share=0.4),
        Scenario("churn -20%", churn_reduction=0.2, monthly_churn=0.03),
    ]
    res = forecast_revenue(settings, horizon=30, level=0.95, scenarios=scenarios)
    assert len(res.frame) == 30 and (res.frame["level"] == 0.95).all()
    assert res.provenance.kind == "demo"
    table = res.tables["scenarios"].pivot(index="timestamp", columns="scenario", values="yhat")
    assert (table["price +10%"] / table["baseline"]).round(6).eq(1.04).all()
    assert (np.diff((table["churn -20%"] / table["baseline"]).to_numpy()) > 0).all()
    assert res.findings[0].provenance.kind == "demo"
    assert "[demo data]" in res.findings[0].text()
    spec = res.chart().to_dict()
    assert "layer" in spec


def test_subscriber_forecast_is_not_money(settings):
    res = forecast_revenue(settings, measure="subscribers", horizon=14)
    assert res.findings[0].impact_usd is None
    assert res.findings[0].impact_subscribers == pytest.approx(res.frame["yhat"].iloc[-1])


def test_scenario_rejects_impossible_values():
    with pytest.raises(ValueError):
        Scenario("bad", churn_reduction=1.5)
    with pytest.raises(ValueError):
        Scenario("bad", price_change=-1.0)
