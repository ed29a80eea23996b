"""What a dashboard shows for one filter selection: computed once, then read.

A :class:`BoardView` is everything one dashboard page shows for one
:class:`~opskit.dashboard.Filters` value: the KPI cards and insights (HTML), every
chart as a Vega-Lite spec, static SVGs of the charts for the page's first paint, and
the provenance. :func:`board_view` reads views from the memo store, keyed by the
warehouse build; ``opskit dashboard`` precomputes the default views before Voila
starts and, in the background, every view one filter away. A viewer kernel therefore
reads one small JSON document per filter change. It computes a view (importing the
catalog and Altair) only when nobody asked for it before, and stores it for the next
viewer.

Views are memoised only while no live source is in play (every source in ``demo``
mode, or ``auto`` without credentials): everything shown then comes from the
warehouse build and is fixed with it. With a live source configured, views are
computed on every request, so live numbers are never frozen.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from opskit import provenance as prov
from opskit.cache import ResultCache, cache_key, settings_scope
from opskit.config import Settings, load_settings
from opskit.dashboard import Filters
from opskit.metrics import METRICS
from opskit.present.page import kpi_tile
from opskit.present.tables import table_html

if TYPE_CHECKING:
    from opskit.dashboard import DashboardData

__all__ = [
    "BOARDS",
    "BoardView",
    "board_view",
    "compute_health",
    "compute_overview",
    "kpi_card",
    "kpi_cards",
]

logger = logging.getLogger(__name__)

Board = Literal["overview", "health"]
BOARDS: tuple[Board, ...] = ("overview", "health")
#: The overview's KPI cards, in order (each defined in :mod:`opskit.metrics`).
_KPIS = ("subscribers", "churn_rate", "mrr", "mrr_at_risk_30d", "revenue_lost_to_churn",
         "open_critical_issues", "streaming_health")  # fmt: skip


@dataclass(frozen=True)
class BoardView:
    """One dashboard page for one filter selection.

    Attributes
    ----------
    board
        ``overview`` or ``health``.
    label
        The selection in words (``last 30 days · region brazil``).
    provenance
        Where every number on the page came from.
    cards
        KPI cards (HTML, the page contract's ``opskit-kpi`` elements).
    charts
        Vega-Lite spec per chart panel.
    insights
        Ranked findings (HTML list), overview only.
    svgs
        Static SVG per chart panel for the first paint (empty when not rendered).
    options
        Filter bar choices (``region``/``device``/``plan``).
    extra
        Board-specific parts (service health: series list, drill targets, specs).
    """

    board: Board
    label: str
    provenance: prov.Provenance
    cards: str
    charts: dict[str, dict[str, Any]]
    insights: str = ""
    svgs: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The view as one JSON document (what the memo store holds)."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["provenance"] = self.provenance.to_dict()
        return json.dumps(data, default=str, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> BoardView:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        data["provenance"] = prov.Provenance.from_dict(data["provenance"])
        return cls(**data)


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
    from opskit import boardcharts as bc
    from opskit import insights

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
    cards = kpi_cards(view["kpis"], _KPIS)
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
    from opskit import boardcharts as bc

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


# -- the memo ------------------------------------------------------------------------------------
def _memoisable(settings: Settings) -> bool:
    """True when no source would give live numbers (see :func:`opskit.sources.live_sources`)."""
    from opskit.sources import live_sources

    return not live_sources(settings)


def _key(board: Board, filters: Filters) -> dict[str, Any]:
    if board == "health":
        return {}
    return {
        "days": filters.days,
        "region": filters.region,
        "device": filters.device,
        "plan": filters.plan,
    }


def board_view(
    board: Board,
    filters: Filters | None = None,
    *,
    settings: Settings | None = None,
    data: DashboardData | None = None,
    svg: bool = False,
    compute: bool = True,
) -> BoardView | None:
    """The view of ``board`` for ``filters``: memoised, else computed (and stored).

    Parameters
    ----------
    board
        ``overview`` or ``health`` (service health ignores ``filters``).
    filters
        Filter bar selection (default: the default view).
    settings
        Settings to use (default: read from the environment).
    data
        Frames to compute from when needed (default: a new :class:`DashboardData`).
    svg
        Require static SVGs of the charts (recomputes a stored view that lacks them).
    compute
        ``False`` returns ``None`` instead of computing a missing view.
    """
    if board not in BOARDS:
        raise ValueError(f"unknown board {board!r}; boards: {', '.join(BOARDS)}")
    settings = settings or load_settings()
    filters = filters or Filters()
    memo = _memoisable(settings)
    dataset = f"board_{board}"
    if memo:
        store, scope = ResultCache.for_settings(settings), settings_scope(settings)
        key = cache_key(dataset, _key(board, filters), memo=scope)
        hit = store.get(key, dataset=dataset, purpose="memo")
        if hit is not None:
            view = BoardView.from_json(str(hit.frame["view"].iloc[0]))
            if view.svgs or not svg:
                return view
    if not compute:
        return None
    if data is None:
        from opskit.dashboard import DashboardData

        data = DashboardData(settings=settings)
    view = (
        compute_overview(data, filters, svg=svg)
        if board == "overview"
        else compute_health(data, svg=svg)
    )
    if memo:
        frame = prov.attach(pd.DataFrame({"view": [view.to_json()]}), view.provenance)
        store.put(key, frame, dataset=dataset, filters=_key(board, filters), system="warehouse",
                  purpose="memo", tag=scope)  # fmt: skip
    return view
