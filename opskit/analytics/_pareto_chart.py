"""The Pareto chart (private): sorted bars, cumulative line, target rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from opskit.present.units import humanize

VITAL, REST, OTHER = "vital few", "rest", "other"
COLOURS = {VITAL: "#c2410c", REST: "#9ca3af", OTHER: "#d1d5db"}


def chart_data(
    labels: Sequence[str],
    values: np.ndarray[Any, Any],
    cum: np.ndarray[Any, Any],
    k: int,
    max_bars: int,
) -> pd.DataFrame:
    """One row per bar: the top ``max_bars`` items, then one ``other`` bar for the rest."""
    n = len(values)
    shown = min(n, max_bars)
    frame = pd.DataFrame(
        {
            "item": [humanize(str(label)) for label in labels[:shown]],
            "value": values[:shown],
            "cumulative_share": cum[:shown],
            "group": [VITAL if i < k else REST for i in range(shown)],
            "order": np.arange(shown),
        }
    )
    if n > shown:
        rest = pd.DataFrame(
            {
                "item": [f"other ({n - shown:,} items)"],
                "value": [float(values[shown:].sum())],
                "cumulative_share": [1.0],
                "group": [VITAL if k > shown else OTHER],
                "order": [shown],
            }
        )
        frame = pd.concat([frame, rest], ignore_index=True)
    return frame


def axis_unit(unit: str, period: str = "") -> str:
    """The unit an axis title names: ``usd`` over a ``year`` -> ``USD per year``.

    >>> axis_unit("usd", "30 days"), axis_unit("days"), axis_unit("rows")
    ('USD per 30 days', 'days', 'count')
    """
    if unit == "usd":
        return "USD" + (f" per {period}" if period and period != "analysed period" else "")
    return {"rows": "count", "": "count", "min": "minutes"}.get(unit, unit)


def pareto_chart(
    data: pd.DataFrame,
    *,
    target: float,
    noun: str,
    what: str,
    title: str,
    unit: str = "",
    period: str = "",
    description: str = "",
) -> Any:
    """An Altair layer chart: bars (left axis), cumulative share (right axis), target rule.

    The value axis names its unit (:func:`axis_unit`); ``description`` is the chart's
    alt text.
    """
    import altair as alt

    x = alt.X(
        "item:N",
        # An explicit order: Vega-Lite drops field-based sorts when layers share the axis.
        sort=data.sort_values("order")["item"].astype(str).tolist(),
        title=noun[:1].upper() + noun[1:],
        axis=alt.Axis(labelAngle=-40, labelLimit=140),
    )
    base = alt.Chart(data)
    bars = base.mark_bar().encode(
        x=x,
        y=alt.Y("value:Q", title=f"{what[:1].upper() + what[1:]} ({axis_unit(unit, period)})"),
        color=alt.Color(
            "group:N",
            title=None,
            scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())),
        ),
        tooltip=[
            alt.Tooltip("item:N"),
            alt.Tooltip("value:Q", format=",.4~g"),
            alt.Tooltip("cumulative_share:Q", format=".1%"),
        ],
    )
    share_scale = alt.Scale(domain=[0, 1])
    line = base.mark_line(point=True, color="#1f2937").encode(
        x=x,
        y=alt.Y(
            "cumulative_share:Q",
            title="Cumulative share (%)",
            scale=share_scale,
            axis=alt.Axis(format="%", orient="right"),
        ),
    )
    rule = (
        alt.Chart(pd.DataFrame({"target": [target]}))
        .mark_rule(strokeDash=[6, 4], color="#2563eb")
        .encode(y=alt.Y("target:Q", scale=share_scale, axis=None))
    )
    width = int(min(900, max(360, 22 * len(data))))
    return (
        alt.layer(bars, line, rule)
        .resolve_scale(y="independent")
        .properties(title=title, width=width, height=320, description=description or title)
    )
