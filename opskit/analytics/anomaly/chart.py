"""Altair chart of an AnomalyFrame: the series, its expected band and flagged points."""

from __future__ import annotations

from typing import cast

import altair as alt
import pandas as pd

__all__ = ["anomaly_chart"]

_COLUMNS = ("timestamp", "value", "score", "is_anomaly", "severity", "expected", "lower", "upper")
_SEVERITY_COLORS = {"low": "#9e9e9e", "medium": "#f2a900", "high": "#e4572e", "critical": "#a4161a"}


def anomaly_chart(
    frame: pd.DataFrame,
    *,
    title: str | None = None,
    width: int = 700,
    height: int = 250,
    value_title: str = "Value (as measured)",
    description: str = "",
) -> alt.LayerChart:
    """Line of the values, shaded expected band, and flagged points coloured by severity.

    Parameters
    ----------
    frame
        An AnomalyFrame of one series (filter grouped results first).
    title
        Chart title; defaults to the detector name (and "demo data" for demo provenance).
    width, height
        Size in pixels.
    value_title
        Title of the value axis, with its unit ("Latency p95 (ms)").
    description
        The chart's alt text (default: generated from the frame).

    Returns
    -------
    alt.LayerChart
        Band (area), series (line) and anomalies (points) layers.

    Raises
    ------
    ValueError
        If ``frame`` lacks AnomalyFrame columns.
    """
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"anomaly_chart needs an AnomalyFrame; missing columns {missing}")
    data = frame.loc[:, list(_COLUMNS)].copy()
    data["severity"] = data["severity"].astype("string")
    data["is_anomaly"] = data["is_anomaly"].fillna(False).astype(bool)
    if title is None:
        names = sorted(set(frame["detector"].astype(str))) if "detector" in frame else []
        title = f"anomalies: {', '.join(names)}" if names else "anomalies"
        kind = frame.attrs.get("provenance", {}).get("kind")
        if kind and kind != "live":
            title += f" ({kind} data)"
    base = alt.Chart(data).encode(x=alt.X("timestamp:T", title=None))
    band = base.mark_area(opacity=0.25, color="#4c78a8").encode(
        y=alt.Y("lower:Q", title=value_title), y2="upper:Q"
    )
    line = base.mark_line(color="#1f3b5c", strokeWidth=1).encode(y="value:Q")
    points = (
        base.transform_filter(alt.datum.is_anomaly)
        .mark_point(filled=True, size=60)
        .encode(
            y="value:Q",
            color=alt.Color(
                "severity:N",
                scale=alt.Scale(
                    domain=list(_SEVERITY_COLORS), range=list(_SEVERITY_COLORS.values())
                ),
            ),
            tooltip=["timestamp:T", "value:Q", "expected:Q", "score:Q", "severity:N"],
        )
    )
    if not description:
        n = int(data["is_anomaly"].sum())
        description = (
            f"Line chart of {len(data):,} points of {value_title.lower()} with the expected band; "
            f"{n} point{'s' * (n != 1)} flagged as anomalous."
        )
    chart = alt.layer(band, line, points).properties(
        title=title, width=width, height=height, description=description
    )
    return cast(alt.LayerChart, chart)
