"""Forecasting: forecasters with prediction intervals, backtests and scenarios.

Forecasters mirror the detectors: ``fit(series)``, then ``predict(horizon, level=0.8)``
returns a :data:`ForecastFrame` (``timestamp``, ``step``, ``yhat``, ``yhat_lower``,
``yhat_upper``, ``level``, ``model``, ``provenance``)::

    history = revenue_series(settings, measure="revenue")
    fc = ETSForecaster(adjust="days_in_month").fit(history).predict(90, level=0.95)
    bt = backtest(history, [ETSForecaster(adjust="days_in_month")], horizon=28)
    bt.tables["summary"]          # MASE, relative MAE vs seasonal naive, coverage

=============================================  ==============================================
name                                           what
=============================================  ==============================================
``SeasonalNaiveForecaster``                    the baseline: the value one cycle earlier
``ETSForecaster``                              exponential smoothing, trend/season by AICc
``backtest``                                   rolling-origin MASE and interval coverage
``forecast_revenue``                           warehouse revenue/subscriber forecast + scenarios
``Scenario``                                   price change / churn reduction what-if
=============================================  ==============================================

The initiative mix under a budget lives in :mod:`opskit.analytics.decisions`.
"""

from __future__ import annotations

from opskit.analytics.forecast._base import LEVELS, BaseForecaster
from opskit.analytics.forecast._frame import (
    ForecastFrame,
    ForecastFrameSchema,
    validate_forecast,
)
from opskit.analytics.forecast._validate import as_regular_series, calendar_period, detect_season
from opskit.analytics.forecast.backtest import BASELINE, backtest, mase_scale
from opskit.analytics.forecast.chart import forecast_chart
from opskit.analytics.forecast.models import ETSForecaster, SeasonalNaiveForecaster
from opskit.analytics.forecast.revenue import (
    MEASURES,
    Scenario,
    apply_scenarios,
    forecast_revenue,
    revenue_series,
)

__all__ = [
    "BASELINE",
    "LEVELS",
    "MEASURES",
    "BaseForecaster",
    "ETSForecaster",
    "ForecastFrame",
    "ForecastFrameSchema",
    "Scenario",
    "SeasonalNaiveForecaster",
    "apply_scenarios",
    "as_regular_series",
    "backtest",
    "calendar_period",
    "detect_season",
    "forecast_chart",
    "forecast_revenue",
    "mase_scale",
    "revenue_series",
    "validate_forecast",
]
