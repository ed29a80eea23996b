"""The dashboards' Altair charts (imported only where a board view is computed).

Every function returns an Altair chart for one panel of a dashboard. Viewer
kernels never import this module for a precomputed view: they receive the
charts as Vega-Lite specs inside a :class:`opskit.dashboards.store.BoardView`.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from opskit.analytics.pareto import pareto_table
from opskit.metrics import window_days
from opskit.present.units import humanize

__all__ = [
    "alerts_chart",
    "cohorts_chart",
    "issues_chart",
    "production_pareto",
    "qoe_by_device",
    "qoe_chart",
    "revenue_pareto",
    "series_chart",
]

#: QoE measures shown, with their axis titles.
_QOE_METRICS = {
    "rebuffering_ratio": "rebuffering",
    "video_start_failure_rate": "start failures",
    "startup_time_ms": "startup ms",
}


def _subtitle(chart: Any, *lines: str) -> Any:
    title = chart.title
    text = title.text if isinstance(title, alt.TitleParams) else title
    return chart.properties(
        title=alt.TitleParams(text=text if isinstance(text, str) else "", subtitle=list(lines))
    )


def revenue_pareto(revenue: pd.DataFrame, label: str) -> Any:
    """Pareto of the revenue lost to the window's cancellations, by churn driver (baseline left out).

    Each cancellation counts a year of its revenue (:data:`opskit.metrics.SUBSCRIPTION_VALUE_MONTHS`);
    the title names the window the cancellations fall in.
    """
    rev = revenue[(revenue["driver"] != "baseline") & (revenue["revenue_lost_annual_usd"] > 0)]
    rev = rev.assign(driver=rev["driver"].map(humanize))
    ranked = pareto_table(rev.set_index("driver")["revenue_lost_annual_usd"])
    days = window_days(revenue, 90)
    chart = _pareto_chart(
        ranked,
        f"Revenue lost to cancellations in the last {days:.0f} days, by churn driver",
        "Revenue lost (USD, a year per cancellation)",
    )
    return _subtitle(chart, label)


def cohorts_chart(curves: pd.DataFrame, cohorts: pd.DataFrame, label: str) -> Any:
    """Retention curves by plan beside the ten at-risk cohorts with most revenue at risk."""
    ret = _retention_chart(curves)
    risk = cohorts[cohorts["is_at_risk"]].nlargest(10, "revenue_at_risk_30d_usd")
    bars = alt.Chart(risk, title="At-risk cohorts: revenue at risk (30 days)").mark_bar().encode(
        x=alt.X("revenue_at_risk_30d_usd:Q", title="Monthly revenue at risk (USD)"),
        y=alt.Y("cohort_id:N", sort="-x", title=None),
        color=alt.Color("top_signal:N", title="top signal"),
        tooltip=["cohort_id:N", "subscribers:Q", "churn_rate_monthly:Q", "relative_risk:Q", "top_signal:N"],
    )  # fmt: skip
    return alt.hconcat(
        _subtitle(ret, label + " (tenure curves: all cohorts)"), bars.properties(width=360)
    ).resolve_scale(color="independent")


def qoe_chart(qoe: pd.DataFrame, cdn_alerts: pd.DataFrame, label: str) -> Any:
    """QoE per CDN over time, with the detected anomalies as red rules."""
    g = _qoe_by(qoe, ["timestamp", "cdn"])
    marks = (
        cdn_alerts[cdn_alerts["timestamp"] >= g["timestamp"].min()]
        if len(g)
        else cdn_alerts.iloc[:0]
    )
    rows = []
    for metric, title in _QOE_METRICS.items():
        base = alt.Chart(g).mark_line(strokeWidth=1).encode(
            x=alt.X("timestamp:T", title=None), y=alt.Y(f"{metric}:Q", title=title),
            color=alt.Color("cdn:N"), tooltip=["timestamp:T", "cdn:N", f"{metric}:Q"],
        )  # fmt: skip
        m = marks[marks["metric"] == metric]
        rule = (
            alt.Chart(m)
            .mark_rule(color="#cf222e", opacity=0.5)
            .encode(x="timestamp:T", tooltip=["timestamp:T", "cdn:N"])
        )
        rows.append(alt.layer(base, rule).properties(width=760, height=120))
    chart = alt.vconcat(*rows).properties(
        title="QoE by CDN (red rules: detected anomalies, all traffic)"
    )
    return _subtitle(chart, label)


def series_chart(anomalies: pd.DataFrame, series: str | None, label: str) -> Any:
    """One ``entity · metric`` series with the detector's band and its alerts."""
    from opskit.analytics.anomaly.chart import anomaly_chart

    if series is None:
        return alt.Chart(pd.DataFrame({"x": []})).mark_line()
    entity, metric = series.split(" · ")
    one = anomalies[(anomalies["entity"] == entity) & (anomalies["metric"] == metric)]
    one = one.assign(is_anomaly=one["is_alert"])
    return _subtitle(anomaly_chart(one, title=series, width=760), label)


def _qoe_by(qoe: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Plays-weighted QoE per ``keys`` (startup time: plays-weighted mean of the medians)."""
    d = qoe.assign(
        _rb=qoe["rebuffering_ratio"].fillna(0) * qoe["plays"],
        _vsf=qoe["video_start_failure_rate"].fillna(0) * qoe["plays"],
        _st=qoe["startup_time_ms"].fillna(0) * qoe["plays"],
    )
    g = d.groupby(keys, as_index=False, observed=True)[["plays", "_rb", "_vsf", "_st"]].sum()
    plays = g["plays"].where(g["plays"] > 0)
    return g.assign(
        rebuffering_ratio=g["_rb"] / plays,
        video_start_failure_rate=g["_vsf"] / plays,
        startup_time_ms=g["_st"] / plays,
    ).drop(columns=["_rb", "_vsf", "_st"])


def _pareto_chart(ranked: pd.DataFrame, title: str, unit: str) -> Any:
    """Bars largest first (vital few highlighted), cumulative share line, 80 % rule."""
    order = list(ranked["item"].astype(str))
    data = ranked.assign(
        item=ranked["item"].astype(str),
        group=ranked["is_vital_few"].map({True: "vital few", False: "rest"}),
    )
    x = alt.X("item:N", sort=order, title=None, axis=alt.Axis(labelAngle=-35, labelLimit=140))
    base = alt.Chart(data)
    bars = base.mark_bar().encode(
        x=x, y=alt.Y("value:Q", title=unit),
        color=alt.Color("group:N", title=None, scale=alt.Scale(domain=["vital few", "rest"], range=["#c2410c", "#9ca3af"])),
        tooltip=["item:N", alt.Tooltip("value:Q", format=",.4~g"), alt.Tooltip("cumulative_share:Q", format=".1%")],
    )  # fmt: skip
    share = alt.Scale(domain=[0, 1])
    line = base.mark_line(point=True, color="#1f2937").encode(
        x=x,
        y=alt.Y(
            "cumulative_share:Q",
            scale=share,
            title="Cumulative share (%)",
            axis=alt.Axis(format="%"),
        ),
    )
    rule = base.mark_rule(strokeDash=[6, 4], color="#2563eb").encode(y=alt.datum(0.8, scale=share))  # fmt: skip
    layer = alt.layer(bars, alt.layer(line, rule)).resolve_scale(y="independent")
    return layer.properties(title=title, width=max(240, 40 * len(order)), height=220)


def _retention_chart(curves: pd.DataFrame) -> Any:
    """Kaplan-Meier retention by tenure with confidence bands, one colour per plan."""
    base = alt.Chart(curves, title="Retention by plan (Kaplan-Meier)").encode(
        x=alt.X("tenure_months:Q", title="months since signup"),
        color=alt.Color("group:N", title="plan"),
    )
    band = base.mark_area(opacity=0.2, interpolate="step-after").encode(
        y=alt.Y("ci_low:Q", title="share still subscribed", scale=alt.Scale(zero=False)),
        y2="ci_high:Q",
    )
    line = base.mark_line(interpolate="step-after").encode(
        y="retention:Q", tooltip=["group:N", "tenure_months:Q", "retention:Q", "at_risk:Q"]
    )
    return (band + line).properties(width=420)


def qoe_by_device(qoe: pd.DataFrame, label: str) -> Any:
    g = _qoe_by(qoe, ["device"])
    charts = [
        alt.Chart(g).mark_bar().encode(
            x=alt.X(f"{m}:Q", title=t), y=alt.Y("device:N", sort="-x", title=None),
            tooltip=["device:N", "plays:Q", f"{m}:Q"],
        ).properties(width=220, height=140)
        for m, t in _QOE_METRICS.items()
    ]  # fmt: skip
    return _subtitle(alt.hconcat(*charts).properties(title="QoE by device"), label)


def issues_chart(issues: pd.DataFrame, label: str) -> Any:
    d = issues.groupby(["status", "severity"], as_index=False, observed=True).size()
    chart = alt.Chart(d, title="Production issues created in the window, by status and severity")
    bars = chart.mark_bar().encode(
        x=alt.X("size:Q", title="issues"), y=alt.Y("status:N", title=None),
        color=alt.Color("severity:N", sort=["critical", "high", "medium", "low"]),
        tooltip=["status:N", "severity:N", "size:Q"],
    )  # fmt: skip
    return _subtitle(bars.properties(width=600, height=140), label)


def production_pareto(frame: pd.DataFrame, label: str) -> Any:
    charts = []
    for dim, title in (("delay_by_component", "Delay (days) by component"),
                       ("cost_overrun_by_show", "Cost overrun by show")):  # fmt: skip
        part = frame[frame["dimension"] == dim]
        if part.empty:
            continue
        charts.append(_pareto_chart(part.head(12), title, str(part["unit"].iloc[0])))
    if not charts:
        return _subtitle(alt.Chart(pd.DataFrame({"x": []})).mark_bar(), label)
    return _subtitle(alt.hconcat(*charts), label)


def alerts_chart(alerts: pd.DataFrame, label: str) -> Any:
    if alerts.empty:
        return alt.Chart(pd.DataFrame({"x": []}), title="No alerts").mark_bar()
    d = alerts.groupby(["entity", "metric"], as_index=False, observed=True).size()
    chart = alt.Chart(d, title="Alerts by service / CDN").mark_bar().encode(
        x=alt.X("size:Q", title="alerts"), y=alt.Y("entity:N", sort="-x", title=None),
        color=alt.Color("metric:N"), tooltip=["entity:N", "metric:N", "size:Q"],
    )  # fmt: skip
    return _subtitle(chart.properties(width=600), label)
