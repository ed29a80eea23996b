"""Forecaster contract: input checks, interval ordering, schema, provenance, seasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opskit import provenance as prov
from opskit.analytics.forecast import (
    ETSForecaster,
    ForecastFrameSchema,
    SeasonalNaiveForecaster,
    detect_season,
)
from opskit.errors import NotFittedError

FORECASTERS = [SeasonalNaiveForecaster, ETSForecaster]


def weekly(n: int = 140, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 100 + 0.1 * t + 8 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, n)
    return pd.Series(values, index=pd.date_range("2026-01-01", periods=n, freq="D"))


@pytest.fixture(scope="module")
def fitted() -> dict[type, object]:
    """One fitted forecaster per class (fitting ETS is the slow part)."""
    return {cls: cls().fit(weekly()) for cls in FORECASTERS}


BAD_INPUT = [
    ("empty", pd.Series([], dtype=float, index=pd.DatetimeIndex([])), ValueError, "at least"),
    ("too short", weekly().iloc[:5], ValueError, "at least"),
    ("all NaN", weekly() * np.nan, ValueError, "at least"),
    ("mostly NaN", weekly().mask(np.arange(140) % 2 == 0), ValueError, "missing"),
    ("range index", pd.Series(np.arange(30.0)), TypeError, "DatetimeIndex"),
    ("text values", weekly().astype(str), ValueError, "numeric"),
    ("unsorted", weekly().iloc[::-1], ValueError, "sorted"),
    (
        "irregular",
        weekly()
        .iloc[[0, 1, 3, 4, 6, 9, 10, 13, 14, 17, 20, 23]]
        .set_axis(
            pd.DatetimeIndex(
                [
                    "2026-01-01 00:00",
                    "2026-01-01 00:07",
                    "2026-01-01 00:09",
                    "2026-01-01 00:21",
                    "2026-01-01 00:30",
                    "2026-01-01 00:41",
                    "2026-01-01 00:50",
                    "2026-01-01 01:02",
                    "2026-01-01 01:11",
                    "2026-01-01 01:20",
                    "2026-01-01 01:33",
                    "2026-01-01 01:40",
                ]
            )
        ),
        ValueError,
        "regular grid",
    ),
]


@pytest.mark.parametrize("cls", FORECASTERS)
@pytest.mark.parametrize(
    ("case", "data", "error", "match"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_raises_clear_error(cls, case, data, error, match):
    with pytest.raises(error, match=match):
        cls().fit(data)


@pytest.mark.parametrize("cls", FORECASTERS)
def test_constant_series_gives_flat_zero_width_forecast(cls):
    s = pd.Series(5.0, index=pd.date_range("2026-01-01", periods=30, freq="D"))
    fc = cls().fit(s).predict(7)
    assert (fc["yhat"] == 5.0).all()
    assert (fc["yhat_lower"] == fc["yhat_upper"]).all()
    assert (fc["model"] == "constant").all()


@pytest.mark.parametrize("cls", FORECASTERS)
def test_a_few_nans_are_interpolated(cls, caplog):
    s = weekly()
    s.iloc[[10, 50, 51]] = np.nan
    fc = cls().fit(s).predict(7)
    assert fc["yhat"].notna().all()
    assert "interpolating 3 missing" in caplog.text


@pytest.mark.parametrize("cls", FORECASTERS)
@pytest.mark.parametrize("horizon", [1, 10, 30])
def test_intervals_are_ordered_and_nested(fitted, cls, horizon):
    f = fitted[cls]
    narrow, wide = f.predict(horizon, level=0.8), f.predict(horizon, level=0.95)
    ForecastFrameSchema.validate(narrow)
    assert len(narrow) == horizon
    assert (narrow["yhat_lower"] <= narrow["yhat"]).all()
    assert (narrow["yhat"] <= narrow["yhat_upper"]).all()
    assert (wide["yhat_lower"] <= narrow["yhat_lower"]).all()
    assert (wide["yhat_upper"] >= narrow["yhat_upper"]).all()
    assert (wide["yhat_upper"] - wide["yhat_lower"]).iloc[-1] > 0


@pytest.mark.parametrize("cls", FORECASTERS)
def test_forecast_starts_after_the_data_in_utc(fitted, cls):
    fc = fitted[cls].predict(3)
    assert fc["timestamp"].iloc[0] == pd.Timestamp("2026-05-21", tz="UTC")
    assert fc["step"].tolist() == [1, 2, 3]


@pytest.mark.parametrize("cls", FORECASTERS)
@pytest.mark.parametrize(
    ("horizon", "level", "error"),
    [
        (0, 0.8, ValueError),
        (2.5, 0.8, TypeError),
        (3, 80, ValueError),
        (3, 0.0, ValueError),
        (3, True, ValueError),
    ],
)
def test_bad_horizon_or_level_raises(fitted, cls, horizon, level, error):
    with pytest.raises(error):
        fitted[cls].predict(horizon, level)


@pytest.mark.parametrize("cls", FORECASTERS)
def test_predict_before_fit_raises_not_fitted(cls):
    with pytest.raises(NotFittedError):
        cls().predict(3)


def test_unknown_parameter_and_bad_values_rejected():
    with pytest.raises(TypeError):
        ETSForecaster(windo=3)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="no parameter"):
        ETSForecaster().set_params(windo=3)
    with pytest.raises(ValueError, match="trend"):
        ETSForecaster(trend="cubic")
    with pytest.raises(ValueError, match="period"):
        SeasonalNaiveForecaster(period=0)


def test_provenance_is_carried_into_the_forecast():
    s = weekly()
    p = prov.Provenance(
        kind="demo", systems=("warehouse",), as_of=pd.Timestamp("2026-05-20", tz="UTC")
    )
    s.attrs[prov.ATTR] = p.to_dict()
    fc = ETSForecaster().fit(s).predict(5)
    assert (fc["provenance"] == "demo").all()
    assert prov.of(fc).kind == "demo"


def test_weekly_season_is_detected_in_daily_data_and_not_in_noise():
    assert detect_season(weekly()) == 7
    noise = pd.Series(
        np.random.default_rng(1).normal(size=140),
        index=pd.date_range("2026-01-01", periods=140, freq="D"),
    )
    assert detect_season(noise) is None


def test_ets_fits_the_weekly_cycle(fitted):
    assert fitted[ETSForecaster].period_ == 7


def test_seasonal_naive_repeats_the_last_cycle_with_widening_interval():
    s = weekly()
    fc = SeasonalNaiveForecaster().fit(s).predict(14)
    np.testing.assert_allclose(fc["yhat"].to_numpy(), np.tile(s.to_numpy()[-7:], 2))
    width = (fc["yhat_upper"] - fc["yhat_lower"]).to_numpy()
    assert width[7] == pytest.approx(width[0] * np.sqrt(2))


def test_days_in_month_adjustment_follows_month_length():
    idx = pd.date_range("2026-01-01", periods=120, freq="D")
    s = pd.Series(3000.0 * 30.4375 / idx.days_in_month, index=idx)  # fixed monthly revenue
    s += np.random.default_rng(0).normal(0, 1, len(s))
    fc = ETSForecaster(adjust="days_in_month").fit(s).predict(40)
    yhat = fc.set_index("timestamp")["yhat"]
    may, june = yhat.loc["2026-05"], yhat.loc["2026-06"]
    assert june.mean() / may.mean() == pytest.approx(31 / 30, rel=5e-3)
