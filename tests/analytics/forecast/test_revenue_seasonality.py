"""The revenue forecast sees the weekly cycle the demo business plants, and says why its model.

The demo plants a weekly cycle in rentals and pay-per-view revenue (``demo_truth``:
``revenue`` / ``transactional_weekday``). The chosen model must beat seasonal naive by
at least 30 % in rolling-origin MASE, and its forecast's weekday profile must follow the
planted one.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from opskit.analytics.forecast import forecast_revenue, revenue_series
from opskit.analytics.forecast.models import MEAN_MONTH_DAYS
from opskit.analytics.forecast.revenue import choose_forecaster
from opskit.config import Settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture(scope="module")
def planted_week(demo_path) -> np.ndarray:
    con = duckdb.connect(str(demo_path), read_only=True)
    try:
        rows = dict(
            con.sql(
                "select subject, value from demo_truth where kind = 'revenue' and name = 'transactional_weekday'"
            ).fetchall()
        )
    finally:
        con.close()
    return np.array([rows[d] for d in DAYS])


def test_the_chosen_model_beats_seasonal_naive_by_a_third(settings: Settings) -> None:
    history = revenue_series(settings, measure="revenue")
    _, table = choose_forecaster(history)
    t = table.set_index("candidate")
    chosen = t[t["is_chosen"]].iloc[0]
    assert chosen.name == "seasonal" and "weekly cycle" in chosen["model"]
    assert chosen["mase"] <= 0.7 * t.loc["seasonal_naive", "mase"], t[["mase", "relative_mae"]]
    assert chosen["coverage"] >= 0.8 - 0.1  # the 80 % interval does not under-cover


def test_the_forecast_follows_the_planted_weekly_cycle(
    settings: Settings, planted_week: np.ndarray
) -> None:
    res = forecast_revenue(settings, horizon=364, level=0.8)
    fc = res.frame
    stamps = pd.DatetimeIndex(fc["timestamp"])
    per_month = fc["yhat"].to_numpy() * stamps.days_in_month.to_numpy() / MEAN_MONTH_DAYS
    profile = pd.Series(per_month).groupby(stamps.weekday).mean().to_numpy()
    assert np.corrcoef(profile, planted_week)[0, 1] > 0.9, profile
    assert "weekly cycle" in res.summary["model"]
    reason = res.summary["model_reason"]
    assert (
        "MASE" in reason and "seasonal naive" in reason and "yearly cycle is not modelled" in reason
    )
    assert set(res.tables["backtest"]["candidate"]) == {"seasonal", "no_cycle", "seasonal_naive"}
