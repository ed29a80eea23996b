"""View builders: what a dashboard page shows for one filter selection.

:func:`compute_overview` and :func:`compute_health` turn the frames of
:class:`~opskit.dashboards.data.DashboardData` into a
:class:`~opskit.dashboards.store.BoardView`: the KPI cards and insights (HTML),
every chart as a Vega-Lite spec (:mod:`opskit.dashboards.charts`), optional static
SVGs for the page's first paint, and the provenance. They import Altair and the
catalog only when called; :func:`opskit.dashboards.views.board_view` calls them
only for a view nobody asked for before.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from opskit import provenance as prov
from opskit.dashboards.data import DashboardData
from opskit.dashboards.filters import Filters
from opskit.dashboards.store import BoardView
from opskit.metrics import METRICS
from opskit.present.page import kpi_tile
from opskit.present.tables import table_html

__all__ = [
    "OVERVIEW_KPIS",
    "compute_health",
    "compute_overview",
    "kpi_card",
    "kpi_cards",
]

#: The overview's KPI cards, in order (each defined in :mod:`opskit.metrics`).
OVERVIEW_KPIS = ("subscribers", "churn_rate", "mrr", "mrr_at_risk_30d", "revenue_lost_to_churn",
                 "open_critical_issues", "streaming_health")  # fmt: skip


# -- KPI cards -----------------------------------------------------------------------------------
def kpi_card(
    kpi: str, label: str, value: float, unit: str = "count", *, change: float | None = None,
    higher_is_better: bool = True, note: str = "", help_text: str = "",
) -> str:  # fmt: skip
    """HTML of one KPI card (class ``opskit-kpi``, ``data-kpi``, raw ``data-value``).

    The presentation layer's tile (:func:`opskit.present.page.kpi_tile`), so a KPI
    reads the same on a dashboard as in a report.
    """
    return kpi_tile(kpi, label, value, unit, change=change, higher_is_better=higher_is_better,
                    note=note, help_text=help_text)  # fmt: skip


def kpi_cards(kpis: pd.DataFrame, keys: tuple[str, ...]) -> list[str]:
    """Cards of the ``kpi_summary`` rows ``keys``: value, change, window and ignored filters."""
    k = kpis.set_index("kpi")
    cards = []
    for key in keys:
        r = k.loc[key]
        note = str(r["window"])
        if r["filters_ignored"]:
            note += f"; not filtered by {r['filters_ignored']}"
        cards.append(
            kpi_card(key, str(r["label"]), float(r["value"]), str(r["unit"]), change=float(r["change"]),
                     higher_is_better=bool(r["higher_is_better"]), note=note,
                     help_text=METRICS[key].formula)
        )  # fmt: skip
    return cards


def _card_row(cards: list[str]) -> str:
    return '<div style="display:flex;gap:8px;flex-wrap:wrap">' + "".join(cards) + "</div>"


# -- computing views -----------------------------------------------------------------------------
def _specs(charts: dict[str, Any], svg: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Vega-Lite specs (unvalidated: the chart code is validated by the tests) and SVGs."""
    specs = {name: chart.to_dict(validate=False) for name, chart in charts.items()}
    svgs: dict[str, str] = {}
    if svg:
        import vl_convert as vlc

        svgs = {name: vlc.vegalite_to_svg(spec) for name, spec in specs.items()}
    return specs, svgs


def compute_overview(data: DashboardData, filters: Filters, *, svg: bool = False) -> BoardView:
    """The operations overview for ``filters`` (KPIs, Pareto, cohorts, production, QoE).

    Parameters
    ----------
    data
        Where the frames come from (catalog memo and precomputed tables).
    filters
        The filter bar's selection.
    svg
        Also render static SVGs of the charts (the page's first paint).
    """
    from opskit import insights
    from opskit.dashboards import charts as bc

    view = data.view(filters)
    p = prov.combine(prov.of(df) for df in view.values())
    an = data.stored("health_anomalies")
    an = an[an["is_alert"] & an["entity"].str.startswith("cdn:")]
    cdn_alerts = an.assign(cdn=an["entity"].str[4:])[["timestamp", "cdn", "metric"]]
    curves = data.stored("retention", region=filters.region)
    if filters.plan is not None:
        curves = curves[curves["group"] == filters.plan]
    label = f"{filters.label()} · {p.label().split(';')[0]}"
    charts = {
        "revenue_pareto": bc.revenue_pareto(view["revenue"], label),
        "cohorts": bc.cohorts_chart(curves, view["cohorts"], label),
        "issues": bc.issues_chart(view["issues"], label),
        "production_pareto": bc.production_pareto(view["pareto"], label),
        "qoe": bc.qoe_chart(view["qoe"], cdn_alerts, label),
        "qoe_device": bc.qoe_by_device(view["qoe"], label),
    }
    specs, svgs = _specs(charts, svg)
    cards = kpi_cards(view["kpis"], OVERVIEW_KPIS)
    found = insights.rank([
        *insights.from_revenue_impact(view["revenue"]),
        *insights.from_churn_signals(view["cohorts"]),
        *insights.from_streaming_qoe(view["qoe"]),
        *insights.from_operational_efficiency(view["efficiency"]),
    ])[:6]  # fmt: skip
    items = "".join(f"<li>{html.escape(f.text())}</li>" for f in found)
    return BoardView(
        board="overview", label=filters.label(), provenance=p, cards=_card_row(cards),
        charts=specs, svgs=svgs, options=data.options,
        insights=f'<ol class="opskit-insights">{items or "<li>No findings for this selection.</li>"}</ol>',
    )  # fmt: skip


def compute_health(data: DashboardData, *, svg: bool = False) -> BoardView:
    """The service health board: KPI cards with drill targets, worst series, alerts, problems."""
    from opskit.dashboards import charts as bc

    summary = data.stored("health_summary")
    alerts = data.stored("health_alerts")
    anomalies = data.stored("health_anomalies")
    problems = data.stored("health_problems")
    p = prov.of(summary)
    ranked = anomalies.groupby(["entity", "metric"], observed=True)["score"].max()
    series = [f"{e} · {m}" for e, m in ranked.sort_values(ascending=False).index]

    def worst(entities: pd.Series) -> str | None:
        names = set(entities)
        return next((s for s in series if s.split(" · ")[0] in names), None)

    crit = summary[summary["status"] == "critical"]["entity"]
    degr = summary[summary["status"] == "degraded"]["entity"]
    opened = (
        problems[problems["status"] == "OPEN"]["entity"]
        if len(problems)
        else pd.Series([], dtype=str)
    )
    top = alerts.groupby(["entity", "metric"]).size().sort_values(ascending=False)
    targets = {
        "critical_services": worst(crit), "degraded_services": worst(degr), "open_problems": worst(opened),
        "alerts": f"{top.index[0][0]} · {top.index[0][1]}" if len(top) else None,
    }  # fmt: skip
    from opskit.health import PROBLEM_COLUMNS, STATUS_RULE

    cards = [
        ["critical_services", kpi_card("critical_services", "Critical services / CDNs", len(crit),
                                       higher_is_better=False, help_text=STATUS_RULE)],
        ["degraded_services", kpi_card("degraded_services", "Degraded services / CDNs", len(degr),
                                       higher_is_better=False, help_text=STATUS_RULE)],
        ["alerts", kpi_card("alerts", "Anomaly alerts (7 days)", len(alerts), higher_is_better=False)],
        ["open_problems", kpi_card("open_problems", "Open Dynatrace problems", len(opened), higher_is_better=False)],
    ]  # fmt: skip
    label = f"window {summary.attrs.get('summary', {}).get('window', '')}"
    source = p.label().split(";")[0]
    first = series[0] if series else None
    charts = {
        "anomalies": bc.series_chart(anomalies, first, source),
        "alerts": bc.alerts_chart(alerts, label),
    }
    specs, svgs = _specs(charts, svg)
    # The series a drill-down can jump to, ready to show without Altair in the kernel.
    drill = {t for t in targets.values() if t is not None and t != first}
    series_specs = {s: bc.series_chart(anomalies, s, source).to_dict(validate=False) for s in drill}
    if first is not None:
        series_specs[first] = specs["anomalies"]
    shown = problems[[c for c in PROBLEM_COLUMNS if c in problems.columns]]
    if "start_time" in shown.columns:
        shown = shown.sort_values("start_time", ascending=False)
    problems_html = table_html(shown, name="problems",
                               max_rows=15, context="service_health")  # fmt: skip
    rule = f'<p class="opskit-status-rule" style="font-size:85%;color:#57606a">Status rule: {html.escape(STATUS_RULE)}</p>'
    return BoardView(
        board="health", label=label, provenance=p, cards=_card_row([c for _, c in cards]) + rule,
        charts=specs, svgs=svgs,
        extra={"cards": cards, "series": series, "targets": targets, "series_specs": series_specs,
               "problems": str(problems_html)},
    )  # fmt: skip
