"""Rolling-origin backtests: MASE against seasonal naive, and interval coverage.

For each origin ``t`` (the last ``origins`` cut points, ``step`` apart, the last one
``horizon`` before the end) every forecaster is refitted on the data up to ``t`` and
forecasts the next ``horizon`` points. Per origin and model:

* ``mae``: mean absolute error over the horizon;
* ``mase``: ``mae`` over the in-sample MAE of the one-cycle-back forecast on the training
  data (Hyndman & Koehler 2006, cycle = the calendar cycle of the sampling step);
  below 1 means smaller errors than the seasonal-naive method makes one step ahead;
* ``coverage``: share of actuals inside the interval, to compare with ``level``;
* ``width``: mean interval width.

The summary table adds ``relative_mae`` (total absolute error over the seasonal-naive
forecaster's on the same origins; below 1 = beats the baseline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import altair as alt
import numpy as np
import pandas as pd

from opskit import provenance as prov
from opskit.analytics._result import Finding, Result
from opskit.analytics.forecast._base import BaseForecaster, check_level
from opskit.analytics.forecast._validate import as_regular_series, calendar_period
from opskit.analytics.forecast.models import SeasonalNaiveForecaster

__all__ = ["BASELINE", "backtest", "input_provenance", "mase_scale"]

#: Name of the seasonal-naive baseline in backtest tables.
BASELINE = "seasonal_naive"


def mase_scale(y: np.ndarray, period: int) -> float:
    """In-sample MAE of the ``period``-back forecast (the MASE denominator).

    Falls back to the lag-1 MAE when the series is shorter than two cycles, and to NaN
    when the series never changes.
    """
    y = np.asarray(y, dtype=float)
    m = period if len(y) > period else 1
    scale = float(np.mean(np.abs(y[m:] - y[:-m]))) if len(y) > m else float("nan")
    return scale if scale > 0 else float("nan")


def input_provenance(series: pd.Series | pd.DataFrame) -> prov.Provenance:
    """The input's provenance; a caller's own series without one is ``cache`` of unknown age."""
    raw = series.attrs.get(prov.ATTR)
    if raw is not None:
        return prov.Provenance.from_dict(raw)
    last = pd.Timestamp(pd.DatetimeIndex(series.index)[-1]) if len(series) else pd.Timestamp(0)
    return prov.Provenance(
        kind="cache",
        systems=("caller",),
        as_of=(last.tz_localize("UTC") if last.tzinfo is None else last).to_pydatetime(),
        detail="series supplied by the caller without provenance",
    )


def _named(
    forecasters: Mapping[str, BaseForecaster] | Sequence[BaseForecaster],
) -> dict[str, BaseForecaster]:
    if isinstance(forecasters, Mapping):
        named = dict(forecasters)
    else:
        named = {}
        for f in forecasters:
            key, i = f.name, 2
            while key in named:
                key, i = f"{f.name}_{i}", i + 1
            named[key] = f
    for key, f in named.items():
        if not isinstance(f, BaseForecaster):
            raise TypeError(f"{key!r} is not a forecaster: {type(f).__name__}")
    named.setdefault(BASELINE, SeasonalNaiveForecaster())
    return named


def backtest(
    data: pd.Series | pd.DataFrame,
    forecasters: Mapping[str, BaseForecaster] | Sequence[BaseForecaster],
    *,
    horizon: int,
    origins: int = 5,
    step: int | None = None,
    level: float = 0.8,
) -> Result:
    """Rolling-origin evaluation of forecasters against the seasonal-naive baseline.

    Parameters
    ----------
    data
        The full series (numeric, DatetimeIndex); see ``as_regular_series``.
    forecasters
        Forecasters (fitted or not: each origin uses a fresh ``clone()``), by name or in
        a list; a ``seasonal_naive`` baseline is added when absent.
    horizon
        Steps forecast from each origin.
    origins
        Number of forecast origins.
    step
        Steps between origins (default ``horizon``: non-overlapping test windows).
    level
        Prediction-interval level whose coverage is measured.

    Returns
    -------
    Result
        ``frame``: one row per model and origin (``model``, ``origin``, ``mae``,
        ``mase``, ``coverage``, ``width``); ``tables["summary"]``: per model mean
        ``mase``, ``relative_mae``, ``coverage``; findings compare each model with the
        baseline.

    Raises
    ------
    ValueError
        If the series is too short for the origins asked for, or on bad arguments.
    """
    level = check_level(level)
    if not isinstance(horizon, int) or horizon < 1 or not isinstance(origins, int) or origins < 1:
        raise ValueError("horizon and origins must be integers >= 1")
    step = horizon if step is None else step
    series = as_regular_series(data)
    y = series.to_numpy(dtype=float)
    n = len(y)
    m = calendar_period(pd.DatetimeIndex(series.index))
    first = n - horizon - step * (origins - 1)
    if first < max(2 * m + 2, 16):
        raise ValueError(
            f"{n} points are too few for {origins} origins of horizon {horizon} (step {step})"
        )
    named = _named(forecasters)
    rows: list[dict[str, Any]] = []
    for cut in range(first, n - horizon + 1, step):
        train = series.iloc[:cut]
        actual = y[cut : cut + horizon]
        scale = mase_scale(train.to_numpy(dtype=float), m)
        for key, f in named.items():
            fc = f.clone().fit(train).predict(horizon, level)
            err = np.abs(actual - fc["yhat"].to_numpy())
            inside = (actual >= fc["yhat_lower"].to_numpy()) & (
                actual <= fc["yhat_upper"].to_numpy()
            )
            rows.append(
                {
                    "model": key,
                    "origin": series.index[cut],
                    "label": fc["model"].iloc[0],
                    "mae": float(err.mean()),
                    "mase": float(err.mean() / scale),
                    "coverage": float(inside.mean()),
                    "width": float((fc["yhat_upper"] - fc["yhat_lower"]).mean()),
                }
            )
    frame = pd.DataFrame(rows)
    base_mae = frame.loc[frame["model"] == BASELINE, "mae"].sum()
    summary = (
        frame.groupby("model", sort=False)
        .agg(
            mase=("mase", "mean"),
            mae=("mae", "mean"),
            coverage=("coverage", "mean"),
            width=("width", "mean"),
            origins=("mae", "size"),
        )
        .reset_index()
    )
    summary["relative_mae"] = (
        summary["mae"] * summary["origins"] / base_mae if base_mae > 0 else np.nan
    )
    summary["level"] = level
    p = input_provenance(data)
    findings = [
        Finding(
            title=f"{r.model} {'beats' if r.relative_mae < 1 else 'does not beat'} seasonal naive",
            where=f"{origins} origins x {horizon} steps",
            source="forecast_backtest",
            action="use it for planning" if r.relative_mae < 1 else "prefer the baseline here",
            provenance=p,
            evidence={
                "MASE": (float(r.mase), "number"),
                "relative MAE": (float(r.relative_mae), "number"),
                "interval coverage": (float(r.coverage), "fraction"),
                "nominal level": (level, "fraction"),
            },
            confidence="high" if origins >= 5 else "medium",
        )
        for r in summary.itertuples()
        if r.model != BASELINE
    ]
    return Result(
        name="forecast_backtest",
        frame=frame,
        provenance=p,
        findings=findings,
        summary={
            "horizon": horizon,
            "origins": origins,
            "period": m,
            "level": level,
            **{f"MASE {r.model}": float(r.mase) for r in summary.itertuples()},
        },
        tables={"summary": summary},
        _chart=_chart,
    )


def _chart(result: Result) -> alt.Chart:
    chart = (
        alt.Chart(result.frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("origin:T"),
            y=alt.Y("mase:Q", title="MASE"),
            color="model:N",
            tooltip=["model", "label", "origin:T", "mase:Q", "coverage:Q"],
        )
        .properties(title="rolling-origin MASE by model", width=600, height=220)
    )
    return cast(alt.Chart, chart)
