"""Altair charts of forecasts: history line, forecast line and prediction-interval band."""

from __future__ import annotations

from typing import cast

import altair as alt
import pandas as pd

from opskit.present.units import fmt

__all__ = ["forecast_chart"]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def forecast_chart(
    history: pd.Series,
    forecast: pd.DataFrame,
    *,
    title: str = "forecast",
    value_title: str = "value",
    last: int | None = 180,
    width: int = 700,
    height: int = 260,
    description: str = "",
    unit: str = "number",
) -> alt.LayerChart:
    """History (line), forecast (dashed line) and its interval (band), one colour per model.

    Parameters
    ----------
    history
        The observed series (DatetimeIndex); only its ``last`` points are drawn.
    forecast
        A ForecastFrame, optionally with a ``scenario`` column (one line per scenario).
    title, value_title
        Chart and y-axis titles; "(demo data)" is appended for demo provenance.
    last
        How many history points to show (None: all).
    description
        The chart's alt text (default: generated from the forecast).
    unit
        Unit of the values (for the generated alt text).

    Returns
    -------
    alt.LayerChart
        Band, history and forecast layers.
    """
    hist = history if last is None else history.iloc[-last:]
    stamps = pd.DatetimeIndex(hist.index)
    stamps = stamps.tz_localize("UTC") if stamps.tz is None else stamps.tz_convert("UTC")
    past = pd.DataFrame({"timestamp": stamps, "value": hist.to_numpy(dtype=float)})
    fc = forecast.copy()
    if "scenario" not in fc:
        fc["scenario"] = "baseline"
    fc = fc[["timestamp", "yhat", "yhat_lower", "yhat_upper", "level", "model", "scenario"]]
    kind = forecast.attrs.get("provenance", {}).get("kind")
    if kind and kind != "live":
        title += f" ({kind} data)"
    x = alt.X("timestamp:T", title=None)
    band = (
        alt.Chart(fc)
        .mark_area(opacity=0.2)
        .encode(
            x=x,
            y=alt.Y("yhat_lower:Q", title=value_title),
            y2="yhat_upper:Q",
            color=alt.Color("scenario:N", title="forecast"),
        )
    )
    line = (
        alt.Chart(fc)
        .mark_line(strokeDash=[5, 3])
        .encode(
            x=x,
            y="yhat:Q",
            color="scenario:N",
            tooltip=[
                "timestamp:T",
                "scenario:N",
                "model:N",
                "yhat:Q",
                "yhat_lower:Q",
                "yhat_upper:Q",
                "level:Q",
            ],
        )
    )
    observed = alt.Chart(past).mark_line(color="#1f3b5c").encode(x=x, y="value:Q")
    if not description:
        base = fc[fc["scenario"] == fc["scenario"].iloc[0]] if len(fc) else fc
        description = (
            f"Line chart of the last {len(past)} days of {_lower_first(value_title)} and the forecast "
            f"for the next {len(base)} days with its {float(base['level'].iloc[0]) * 100:.0f} % "
            f"interval; the forecast ends at {fmt(float(base['yhat'].iloc[-1]), unit)} "
            f"({fmt(float(base['yhat_lower'].iloc[-1]), unit)} - "
            f"{fmt(float(base['yhat_upper'].iloc[-1]), unit)})."
            if len(base)
            else f"Line chart of {_lower_first(value_title)}."
        )
    chart = alt.layer(band, observed, line).properties(
        title=title, width=width, height=height, description=description
    )
    return cast(alt.LayerChart, chart)
