"""Dashboard widgets: KPI cards, offline charts, a provenance banner and a filter bar.

The two Voila dashboards in ``notebooks/dashboards/`` are one call each:
:func:`ops_overview` and :func:`service_health`. Data comes from
:class:`opskit.dashboard.DashboardData` (memoised catalog frames and
precomputed results), so a filter change only reads and aggregates.

Page contract (for browser checks): every KPI card is an element with class
``opskit-kpi``, a ``data-kpi`` attribute naming the KPI and ``data-value`` holding
the raw number; every chart sits in an element with class ``opskit-chart`` (and
``opskit-chart-<name>``); the provenance banner has class ``opskit-provenance``;
``.opskit-status`` carries ``data-version`` (bumped after each update) and
``data-filters`` (the filter label, also shown in chart subtitles).
Charts are ``alt.JupyterChart`` widgets (Vega bundled in the Python package,
no CDN) rendered as SVG.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any

import altair as alt
import ipywidgets as W
import pandas as pd
from altair.utils.schemapi import debug_mode

from opskit import insights
from opskit import provenance as prov
from opskit.analytics._result import fmt_number, provenance_banner
from opskit.analytics.pareto import pareto_table
from opskit.dashboard import CHART_BUNDLE, WINDOWS, DashboardData, Filters, dashboard_dir
from opskit.viz import setup_charts

__all__ = [
    "ChartPanel",
    "FilterBar",
    "OpsOverview",
    "ServiceHealth",
    "kpi_card",
    "ops_overview",
    "service_health",
]

_ALL = "All"
#: The chart module of a served chart: import the bundle Voila serves (cached by the browser).
_STUB = (
    "const base = new URL({}, window.location.origin);\n"
    "const mod = await import(new URL({}, base).href);\n"
    "export default mod.default;\n"
).format(
    json.dumps(os.environ.get("VOILA_BASE_URL", "/")), json.dumps(f"voila/files/{CHART_BUNDLE}")
)
_CSS = """<style>
.opskit-kpi{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:150px;background:#fff}
.opskit-kpi .lbl{font-size:85%;color:#57606a}.opskit-kpi .val{font-size:170%;font-weight:600}
.opskit-kpi .chg{font-size:80%}.opskit-kpi .good{color:#1a7f37}.opskit-kpi .bad{color:#cf222e}
.opskit-insights li{margin-bottom:4px}.opskit-status{display:none}
</style>"""
#: Once the widgets render, this hides the server-rendered first paint (:func:`_first_paint`).
_HYDRATED = "<style>.opskit-snapshot{display:none}</style>"


def _fmt(value: float, unit: str) -> str:
    if unit == "fraction":
        return fmt_number(value, "pct")
    if unit == "score":
        return "n/a" if pd.isna(value) else f"{value:.1f}"
    return fmt_number(value, "usd" if unit == "usd" else "")


def kpi_card(
    kpi: str, label: str, value: float, unit: str = "count", *, change: float | None = None,
    higher_is_better: bool = True, note: str = "",
) -> str:  # fmt: skip
    """HTML of one KPI card (class ``opskit-kpi``, ``data-kpi``, raw ``data-value``)."""
    delta = ""
    if change is not None and not pd.isna(change):
        good = (change >= 0) == higher_is_better
        arrow = "▲" if change > 0 else "▼" if change < 0 else "="
        shown = f"{change * 100:+.2f} pp" if unit == "fraction" else _fmt(abs(change), unit)
        if unit != "fraction":
            shown = ("+" if change >= 0 else "-") + shown
        delta = f'<div class="chg {"good" if good else "bad"}">{arrow} {shown} vs previous</div>'
    extra = f'<div class="chg">{html.escape(note)}</div>' if note else ""
    return (
        f'<div class="opskit-kpi" data-kpi="{html.escape(kpi)}" data-value="{float(value)!r}">'
        f'<div class="lbl">{html.escape(label)}</div><div class="val">{_fmt(value, unit)}</div>'
        f"{delta}{extra}</div>"
    )


class _ServedChart(alt.JupyterChart):
    """A ``JupyterChart`` whose JavaScript is the file Voila serves (see ``CHART_BUNDLE``)."""

    _esm = _STUB


def _chart_widget(chart: Any) -> alt.JupyterChart:
    """A chart widget with no CDN: the served bundle under Voila, else the inline bundle."""
    options = {"renderer": "svg", "actions": False}
    if "VOILA_BASE_URL" in os.environ and (dashboard_dir() / CHART_BUNDLE).is_file():
        return _ServedChart(chart, embed_options=options)
    if not alt.JupyterChart._is_offline:
        alt.JupyterChart.enable_offline()  # ~1 s once per process
    return alt.JupyterChart(chart, embed_options=options)


class ChartPanel(W.VBox):  # type: ignore[misc]
    """An Altair chart in an element with classes ``opskit-chart`` and ``opskit-chart-<name>``."""

    def __init__(self, name: str, chart: Any) -> None:
        self.chart = _chart_widget(chart)
        super().__init__([self.chart])
        self.add_class("opskit-chart")
        self.add_class(f"opskit-chart-{name}")

    def show(self, chart: Any) -> None:
        """Replace the chart's spec (the browser re-renders it in place).

        The first rendering validated the same chart code against the Vega-Lite
        schema; updates skip validation, which costs more than the rest of an update.
        """
        self.chart.spec = chart.to_dict(validate=False)


class FilterBar(W.HBox):  # type: ignore[misc]
    """Date range, region, device and plan dropdowns; ``observe_change(fn)`` gets :class:`Filters`."""

    def __init__(self, options: dict[str, list[str]]) -> None:
        self.window = W.Dropdown(options=list(WINDOWS), value="Last 30 days", description="Dates")
        self.fields = {
            k: W.Dropdown(options=[_ALL, *options.get(k, [])], value=_ALL, description=k.title())
            for k in ("region", "device", "plan")
        }
        for d in (self.window, *self.fields.values()):
            d.layout = W.Layout(width="230px")
            d.add_class(f"opskit-filter-{d.description.lower()}")
        super().__init__([self.window, *self.fields.values()])
        self.add_class("opskit-filters")

    @property
    def filters(self) -> Filters:
        """The current selection."""
        picked = {k: (None if d.value == _ALL else str(d.value)) for k, d in self.fields.items()}
        return Filters(days=WINDOWS[str(self.window.value)], **picked)

    def observe_change(self, fn: Any) -> None:
        """Call ``fn(filters)`` after any dropdown changes."""
        for d in (self.window, *self.fields.values()):
            d.observe(lambda _change: fn(self.filters), names="value")


def _status(version: int, label: str) -> str:
    return f'<div class="opskit-status" data-version="{version}" data-filters="{html.escape(label)}"></div>'


def _subtitle(chart: Any, *lines: str) -> Any:
    title = chart.title
    text = title.text if isinstance(title, alt.TitleParams) else title
    return chart.properties(
        title=alt.TitleParams(text=text if isinstance(text, str) else "", subtitle=list(lines))
    )


class OpsOverview:
    """The operations overview: KPI cards, Pareto, churn cohorts, production, insights, QoE."""

    def __init__(self, data: DashboardData | None = None) -> None:
        setup_charts("widget")
        self.data = data or DashboardData()
        self.bar = FilterBar(self.data.options)
        self.version = 0
        f = self.bar.filters
        view = self.data.view(f)
        self.provenance = prov.combine(prov.of(df) for df in view.values())
        an = self.data.stored("health_anomalies")
        an = an[an["is_alert"] & an["entity"].str.startswith("cdn:")]
        self._cdn_alerts = an.assign(cdn=an["entity"].str[4:])[["timestamp", "cdn", "metric"]]
        self.banner = W.HTML(_CSS + _HYDRATED + provenance_banner(self.provenance))
        self.cards = W.HTML(self._cards(view))
        self.insights = W.HTML(self._insights(view))
        self.status = W.HTML(_status(0, f.label()))
        self.panels = {
            name: ChartPanel(name, chart) for name, chart in self._charts(f, view).items()
        }
        p = self.panels
        self.first_paint = _first_paint(self.provenance, self.cards.value)
        self.widget = W.VBox([
            self.banner, self.bar, self.cards, self.status,
            W.HTML("<h3>Revenue lost by churn driver</h3>"), p["revenue_pareto"],
            W.HTML("<h3>Churn cohorts</h3>"), p["cohorts"],
            W.HTML("<h3>Production</h3>"), p["issues"], p["production_pareto"],
            W.HTML("<h3>AI insights</h3>"), self.insights,
            W.HTML("<h3>Streaming quality of experience</h3>"), p["qoe"], p["qoe_device"],
        ])  # fmt: skip
        self.bar.observe_change(self.update)

    def update(self, filters: Filters) -> None:
        """Show ``filters``: reload (memoised) frames, then refresh cards, charts and insights."""
        view = self.data.view(filters)
        self.version += 1
        self.cards.value = self._cards(view)
        self.insights.value = self._insights(view)
        with debug_mode(False):  # no schema validation while building (see ChartPanel.show)
            charts = self._charts(filters, view)
        for name, chart in charts.items():
            self.panels[name].show(chart)
        self.status.value = _status(self.version, filters.label())

    def _cards(self, view: dict[str, pd.DataFrame]) -> str:
        k = view["kpis"].set_index("kpi")
        cohorts = view["cohorts"]
        risk = cohorts[cohorts["is_at_risk"]]
        cards = [
            kpi_card(name, str(k.at[name, "label"]), float(k.at[name, "value"]), str(k.at[name, "unit"]),
                     change=float(k.at[name, "change"]), higher_is_better=bool(k.at[name, "higher_is_better"]))
            for name in ("subscribers", "churn_rate", "mrr", "open_critical_issues", "streaming_health")
        ]  # fmt: skip
        cards.insert(2, kpi_card("revenue_at_risk", "Revenue at risk (30 days)",
                                 float(risk["revenue_at_risk_30d_usd"].sum()), "usd",
                                 note=f"{len(risk)} at-risk cohorts", higher_is_better=False))  # fmt: skip
        return '<div style="display:flex;gap:8px;flex-wrap:wrap">' + "".join(cards) + "</div>"

    def _insights(self, view: dict[str, pd.DataFrame]) -> str:
        found = insights.rank([
            *insights.from_revenue_impact(view["revenue"]),
            *insights.from_churn_signals(view["cohorts"]),
            *insights.from_streaming_qoe(view["qoe"]),
            *insights.from_operational_efficiency(view["efficiency"]),
        ])[:6]  # fmt: skip
        items = "".join(f"<li>{html.escape(f.text())}</li>" for f in found)
        return f'<ol class="opskit-insights">{items or "<li>No findings for this selection.</li>"}</ol>'

    def _charts(self, f: Filters, view: dict[str, pd.DataFrame]) -> dict[str, Any]:
        label = f"{f.label()} · {self.provenance.label().split(';')[0]}"
        rev = view["revenue"]
        rev = rev[(rev["driver"] != "baseline") & (rev["revenue_lost_annual_usd"] > 0)]
        ranked = pareto_table(rev.set_index("driver")["revenue_lost_annual_usd"])
        revenue = _pareto_chart(ranked, "Annual revenue lost by churn driver", "USD per year")
        return {
            "revenue_pareto": _subtitle(revenue, label),
            "cohorts": self._cohorts(f, view["cohorts"], label),
            "issues": _issues_chart(view["issues"], label),
            "production_pareto": _production_pareto(view["pareto"], label),
            "qoe": self._qoe(view["qoe"], label),
            "qoe_device": _qoe_by_device(view["qoe"], label),
        }

    def _cohorts(self, f: Filters, cohorts: pd.DataFrame, label: str) -> Any:
        curves = self.data.stored("retention", region=f.region)
        if f.plan is not None:
            curves = curves[curves["group"] == f.plan]
        ret = _retention_chart(curves)
        risk = cohorts[cohorts["is_at_risk"]].nlargest(10, "revenue_at_risk_30d_usd")
        bars = alt.Chart(risk, title="At-risk cohorts: revenue at risk (30 days)").mark_bar().encode(
            x=alt.X("revenue_at_risk_30d_usd:Q", title="USD"),
            y=alt.Y("cohort_id:N", sort="-x", title=None),
            color=alt.Color("top_signal:N", title="top signal"),
            tooltip=["cohort_id", "subscribers", "churn_rate_monthly", "relative_risk", "top_signal"],
        )  # fmt: skip
        return alt.hconcat(
            _subtitle(ret, label + " (tenure curves: all cohorts)"), bars.properties(width=360)
        ).resolve_scale(color="independent")

    def _qoe(self, qoe: pd.DataFrame, label: str) -> Any:
        g = _qoe_by(qoe, ["timestamp", "cdn"])
        marks = self._cdn_alerts
        marks = marks[marks["timestamp"] >= g["timestamp"].min()] if len(g) else marks.iloc[:0]
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


_QOE_METRICS = {
    "rebuffering_ratio": "rebuffering",
    "video_start_failure_rate": "start failures",
    "startup_time_ms": "startup ms",
}


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
            "cumulative_share:Q", scale=share, title="cumulative share", axis=alt.Axis(format="%")
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
        y="retention:Q", tooltip=["group", "tenure_months", "retention", "at_risk"]
    )
    return (band + line).properties(width=420)


def _qoe_by_device(qoe: pd.DataFrame, label: str) -> Any:
    g = _qoe_by(qoe, ["device"])
    charts = [
        alt.Chart(g).mark_bar().encode(
            x=alt.X(f"{m}:Q", title=t), y=alt.Y("device:N", sort="-x", title=None),
            tooltip=["device:N", "plays:Q", f"{m}:Q"],
        ).properties(width=220, height=140)
        for m, t in _QOE_METRICS.items()
    ]  # fmt: skip
    return _subtitle(alt.hconcat(*charts).properties(title="QoE by device"), label)


def _issues_chart(issues: pd.DataFrame, label: str) -> Any:
    d = issues.groupby(["status", "severity"], as_index=False, observed=True).size()
    chart = alt.Chart(d, title="Production issues created in the window, by status and severity")
    bars = chart.mark_bar().encode(
        x=alt.X("size:Q", title="issues"), y=alt.Y("status:N", title=None),
        color=alt.Color("severity:N", sort=["critical", "high", "medium", "low"]),
        tooltip=["status", "severity", "size"],
    )  # fmt: skip
    return _subtitle(bars.properties(width=600, height=140), label)


def _production_pareto(frame: pd.DataFrame, label: str) -> Any:
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


def _first_paint(p: prov.Provenance, cards: str) -> str:
    """Banner and KPI cards as plain HTML: in the page Voila pre-renders, so they show at once.

    The widgets (filters, charts) render ~1-2 s later and hide it (``_HYDRATED``).
    """
    return f'<div class="opskit-snapshot">{_CSS}{provenance_banner(p)}{cards}</div>'


def _display(board: OpsOverview | ServiceHealth) -> W.VBox:
    from IPython.display import HTML, display

    display(HTML(board.first_paint))  # type: ignore[no-untyped-call]
    return board.widget


def ops_overview(data: DashboardData | None = None) -> W.VBox:
    """The operations overview dashboard (displays its first paint; returns the widget to show)."""
    return _display(OpsOverview(data))


class ServiceHealth:
    """Service health: KPI cards that drill down to the series behind them, anomalies, problems."""

    def __init__(self, data: DashboardData | None = None) -> None:
        setup_charts("widget")
        self.data = data or DashboardData()
        summary = self.data.stored("health_summary")
        self.alerts = self.data.stored("health_alerts")
        self.anomalies = self.data.stored("health_anomalies")
        problems = self.data.stored("health_problems")
        self.provenance = prov.of(summary)
        ranked = self.anomalies.groupby(["entity", "metric"], observed=True)["score"].max()
        self.series = [f"{e} · {m}" for e, m in ranked.sort_values(ascending=False).index]
        self.picker = W.Dropdown(
            options=self.series, description="Series", layout=W.Layout(width="520px")
        )
        self.picker.add_class("opskit-series")
        cards, self.targets = self._cards(summary, problems)
        self.first_paint = _first_paint(self.provenance, "".join(c for _, c in cards))
        buttons = []
        for kpi, html_card in cards:
            btn = W.Button(description="show series", layout=W.Layout(width="150px"))
            btn.add_class(f"opskit-drill-{kpi}")
            btn.on_click(lambda _b, k=kpi: self.drill(k))
            buttons.append(W.VBox([W.HTML(html_card), btn]))
        label = f"window {summary.attrs.get('summary', {}).get('window', '')}"
        self.label = label
        self.status = W.HTML(_status(0, label))
        self.panel = ChartPanel("anomalies", self._series_chart(self.picker.value))
        alerts = ChartPanel("alerts", _alerts_chart(self.alerts, label))
        self.picker.observe(lambda c: self._show(c["new"]), names="value")
        self.widget = W.VBox([
            W.HTML(_CSS + _HYDRATED + provenance_banner(self.provenance)), W.HBox(buttons), self.status,
            W.HTML("<h3>Anomalies: series, detector band and flagged points</h3>"), self.picker, self.panel,
            W.HTML("<h3>Alerts per service and CDN</h3>"), alerts,
            W.HTML("<h3>Dynatrace problems</h3>"), W.HTML(_problems_table(problems)),
        ])  # fmt: skip
        self.version = 0

    def _cards(
        self, summary: pd.DataFrame, problems: pd.DataFrame
    ) -> tuple[list[tuple[str, str]], dict[str, str | None]]:
        def worst(entities: pd.Series) -> str | None:
            for s in self.series:
                if s.split(" · ")[0] in set(entities):
                    return s
            return None

        crit = summary[summary["status"] == "critical"]["entity"]
        degr = summary[summary["status"] == "degraded"]["entity"]
        opened = (
            problems[problems["status"] == "OPEN"]["entity"]
            if len(problems)
            else pd.Series([], dtype=str)
        )
        top_alerts = self.alerts.groupby(["entity", "metric"]).size().sort_values(ascending=False)
        targets: dict[str, str | None] = {
            "critical_services": worst(crit), "degraded_services": worst(degr),
            "open_problems": worst(opened),
            "alerts": f"{top_alerts.index[0][0]} · {top_alerts.index[0][1]}" if len(top_alerts) else None,
        }  # fmt: skip
        cards = [
            ("critical_services", kpi_card("critical_services", "Critical services / CDNs", len(crit), higher_is_better=False)),
            ("degraded_services", kpi_card("degraded_services", "Degraded services / CDNs", len(degr), higher_is_better=False)),
            ("alerts", kpi_card("alerts", "Anomaly alerts (7 days)", len(self.alerts), higher_is_better=False)),
            ("open_problems", kpi_card("open_problems", "Open Dynatrace problems", len(opened), higher_is_better=False)),
        ]  # fmt: skip
        return cards, targets

    def drill(self, kpi: str) -> None:
        """Show the series behind ``kpi`` (its worst series)."""
        target = self.targets.get(kpi)
        if target is not None:
            self.picker.value = target

    def _show(self, series: str) -> None:
        with debug_mode(False):
            self.panel.show(self._series_chart(series))
        self.version += 1
        self.status.value = _status(self.version, series)

    def _series_chart(self, series: str | None) -> Any:
        from opskit.analytics.anomaly.chart import anomaly_chart  # heavy: only this dashboard

        if series is None:
            return alt.Chart(pd.DataFrame({"x": []})).mark_line()
        entity, metric = series.split(" · ")
        a = self.anomalies
        one = a[(a["entity"] == entity) & (a["metric"] == metric)]
        one = one.assign(is_anomaly=one["is_alert"])
        return _subtitle(
            anomaly_chart(one, title=series, width=760), self.provenance.label().split(";")[0]
        )


def _alerts_chart(alerts: pd.DataFrame, label: str) -> Any:
    if alerts.empty:
        return alt.Chart(pd.DataFrame({"x": []}), title="No alerts").mark_bar()
    d = alerts.groupby(["entity", "metric"], as_index=False, observed=True).size()
    chart = alt.Chart(d, title="Alerts by service / CDN").mark_bar().encode(
        x=alt.X("size:Q", title="alerts"), y=alt.Y("entity:N", sort="-x", title=None),
        color=alt.Color("metric:N"), tooltip=["entity", "metric", "size"],
    )  # fmt: skip
    return _subtitle(chart.properties(width=600), label)


def _problems_table(problems: pd.DataFrame) -> str:
    cols = [
        "display_id",
        "title",
        "entity",
        "severity_level",
        "status",
        "start_time",
        "duration_min",
    ]
    shown = problems[[c for c in cols if c in problems.columns]].head(25)
    return str(
        shown.to_html(index=False, classes="opskit-problems", float_format=lambda v: f"{v:,.0f}")
    )


def service_health(data: DashboardData | None = None) -> W.VBox:
    """The service health dashboard (displays its first paint; returns the widget to show)."""
    return _display(ServiceHealth(data))
