"""Dashboard widgets: KPI cards, offline charts, a provenance banner and a filter bar.

The two Voila dashboards in ``notebooks/dashboards/`` are one call each:
:func:`ops_overview` and :func:`service_health`. What they show comes from
:func:`opskit.dashboards.views.board_view` (stored per warehouse build), so opening a
page or changing a filter reads one small JSON document; this module imports
neither the catalog nor Altair.

Page contract (for browser checks): every KPI card is an element with class
``opskit-kpi``, a ``data-kpi`` attribute naming the KPI and ``data-value`` holding
the raw number; every chart sits in an element with class ``opskit-chart`` (and
``opskit-chart-<name>``); the provenance banner has class ``opskit-provenance``;
``.opskit-status`` carries ``data-version`` (bumped after each update) and
``data-filters`` (the filter label, also shown in chart subtitles).

First paint: the banner, the KPI cards and static SVGs of the charts (class
``opskit-snapshot``, charts in ``opskit-snapshot-chart``) are plain HTML that the
``opskit`` Voila template puts in the page itself, so they show before any
JavaScript runs; the live widgets hide them once they render.

Charts are Vega-Lite specs shown by :class:`SpecChart`, an anywidget running
Altair's ``JupyterChart`` front-end (Vega bundled, no CDN) as SVG.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any

import anywidget
import ipywidgets as W
import traitlets

from opskit.config import Settings
from opskit.dashboards.filters import WINDOWS, Filters
from opskit.dashboards.serving.files import CHART_BUNDLE, dashboard_dir
from opskit.dashboards.store import BoardView
from opskit.dashboards.views import board_view
from opskit.present.page import provenance_banner

__all__ = [
    "ChartPanel",
    "FilterBar",
    "OpsOverview",
    "ServiceHealth",
    "SpecChart",
    "first_paint",
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
.opskit-snapshot{font-family:system-ui,"DejaVu Sans",sans-serif}.opskit-snapshot-chart{margin:8px 0}
</style>"""
#: Once the widgets render, this hides the first paint (:func:`first_paint`).
_HYDRATED = "<style>.opskit-snapshot{display:none}</style>"


class SpecChart(anywidget.AnyWidget):
    """A Vega-Lite spec rendered by Altair's ``JupyterChart`` front-end (no Altair in the kernel).

    The traits are the ones that front-end reads; under Voila its JavaScript is the
    file Voila serves (:data:`~opskit.dashboards.serving.files.CHART_BUNDLE`), elsewhere Altair's
    offline bundle (Vega included, no CDN).
    """

    _esm = _STUB
    spec = traitlets.Dict(allow_none=True).tag(sync=True)
    embed_options = traitlets.Dict(default_value=None, allow_none=True).tag(sync=True)
    debounce_wait = traitlets.Float(default_value=10).tag(sync=True)
    max_wait = traitlets.Bool(default_value=True).tag(sync=True)
    local_tz = traitlets.Unicode(default_value=None, allow_none=True).tag(sync=True)
    _vl_selections = traitlets.Dict().tag(sync=True)
    _params = traitlets.Dict().tag(sync=True)
    _js_watch_plan = traitlets.Any(allow_none=True).tag(sync=True)
    _js_to_py_updates = traitlets.Any(allow_none=True).tag(sync=True)
    _py_to_js_updates = traitlets.Any(allow_none=True).tag(sync=True)


class _InlineSpecChart(SpecChart):
    """:class:`SpecChart` carrying the whole offline bundle (JupyterLab, no Voila file server)."""


def _chart_widget(spec: dict[str, Any]) -> SpecChart:
    options = {"renderer": "svg", "actions": False}
    if "VOILA_BASE_URL" in os.environ and (dashboard_dir() / CHART_BUNDLE).is_file():
        return SpecChart(spec=spec, embed_options=options)
    if _InlineSpecChart._esm is _STUB:
        import altair as alt

        alt.JupyterChart.enable_offline()  # ~1.5 s once per process
        _InlineSpecChart._esm = alt.JupyterChart._esm
    return _InlineSpecChart(spec=spec, embed_options=options)


class ChartPanel(W.VBox):  # type: ignore[misc]
    """A chart in an element with classes ``opskit-chart`` and ``opskit-chart-<name>``."""

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        self.chart = _chart_widget(spec)
        super().__init__([self.chart])
        self.add_class("opskit-chart")
        self.add_class(f"opskit-chart-{name}")

    def show(self, spec: dict[str, Any]) -> None:
        """Replace the chart's spec (the browser re-renders it in place)."""
        self.chart.spec = spec


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


def first_paint(view: BoardView) -> str:
    """Banner, KPI cards and static chart SVGs as plain HTML (class ``opskit-snapshot``).

    The ``opskit`` Voila template writes this output into the page as HTML, so it
    shows as soon as the page arrives; the widgets hide it once they render.
    """
    charts = "".join(
        f'<div class="opskit-snapshot-chart opskit-snapshot-{html.escape(name)}">{svg}</div>'
        for name, svg in view.svgs.items()
    )
    return (
        f'<div class="opskit-snapshot">{_CSS}{provenance_banner(view.provenance)}'
        f"{view.cards}{charts}</div>"
    )


class OpsOverview:
    """The operations overview: KPI cards, Pareto, churn cohorts, production, insights, QoE.

    Parameters
    ----------
    view
        The view to show first (default: the stored default view).
    settings
        Settings to read views with (default: from the environment).
    """

    def __init__(self, view: BoardView | None = None, *, settings: Settings | None = None) -> None:
        self.settings = settings
        view = view or board_view("overview", settings=settings, svg=True)
        assert view is not None  # computed when missing
        self.view = view
        self.bar = FilterBar(view.options)
        self.version = 0
        self.banner = W.HTML(_CSS + _HYDRATED + provenance_banner(view.provenance))
        self.cards = W.HTML(view.cards)
        self.insights = W.HTML(view.insights)
        self.status = W.HTML(_status(0, view.label))
        self.panels = {name: ChartPanel(name, spec) for name, spec in view.charts.items()}
        p = self.panels
        self.first_paint = first_paint(view)
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
        """Show ``filters``: read (or compute once) the view, then refresh cards, charts, insights."""
        view = board_view("overview", filters, settings=self.settings)
        assert view is not None
        self.view = view
        self.version += 1
        with self.widget.hold_sync():
            self.cards.value = view.cards
            self.insights.value = view.insights
            self.banner.value = _CSS + _HYDRATED + provenance_banner(view.provenance)
            for name, spec in view.charts.items():
                self.panels[name].show(spec)
            self.status.value = _status(self.version, view.label)


def _display(board: OpsOverview | ServiceHealth) -> W.VBox:
    from IPython.display import HTML, display

    display(HTML(board.first_paint))  # type: ignore[no-untyped-call]
    return board.widget


def ops_overview(settings: Settings | None = None) -> W.VBox:
    """The operations overview dashboard (displays its first paint; returns the widget to show)."""
    return _display(OpsOverview(settings=settings))


class ServiceHealth:
    """Service health: KPI cards that drill down to the series behind them, anomalies, problems.

    Parameters
    ----------
    view
        The view to show (default: the stored service-health view).
    settings
        Settings to read views with (default: from the environment).
    """

    def __init__(self, view: BoardView | None = None, *, settings: Settings | None = None) -> None:
        self.settings = settings
        view = view or board_view("health", settings=settings, svg=True)
        assert view is not None
        self.view = view
        self._specs: dict[str, dict[str, Any]] = dict(view.extra["series_specs"])
        self.targets: dict[str, str | None] = view.extra["targets"]
        self.picker = W.Dropdown(
            options=view.extra["series"], description="Series", layout=W.Layout(width="520px")
        )
        self.picker.add_class("opskit-series")
        self.first_paint = first_paint(view)
        buttons = []
        for kpi, html_card in view.extra["cards"]:
            btn = W.Button(description="show series", layout=W.Layout(width="150px"))
            btn.add_class(f"opskit-drill-{kpi}")
            btn.on_click(lambda _b, k=kpi: self.drill(k))
            buttons.append(W.VBox([W.HTML(html_card), btn]))
        self.label = view.label
        self.status = W.HTML(_status(0, view.label))
        self.panel = ChartPanel("anomalies", view.charts["anomalies"])
        alerts = ChartPanel("alerts", view.charts["alerts"])
        self.picker.observe(lambda c: self._show(c["new"]), names="value")
        self.widget = W.VBox([
            W.HTML(_CSS + _HYDRATED + provenance_banner(view.provenance)), W.HBox(buttons), self.status,
            W.HTML("<h3>Anomalies: series, detector band and flagged points</h3>"), self.picker, self.panel,
            W.HTML("<h3>Alerts per service and CDN</h3>"), alerts,
            W.HTML("<h3>Dynatrace problems</h3>"), W.HTML(view.extra["problems"]),
        ])  # fmt: skip
        self.version = 0

    def drill(self, kpi: str) -> None:
        """Show the series behind ``kpi`` (its worst series)."""
        target = self.targets.get(kpi)
        if target is not None:
            self.picker.value = target

    def _show(self, series: str) -> None:
        spec = self._specs.get(series)
        if spec is None:  # not a drill target: draw it now (imports Altair once)
            from opskit.dashboards import charts
            from opskit.dashboards.data import stored_frame

            anomalies = stored_frame("health_anomalies", settings=self.settings)
            if anomalies is None:
                raise LookupError("no service-health anomalies for this warehouse")
            source = self.view.provenance.label().split(";")[0]
            chart = charts.series_chart(anomalies, series, source)
            spec = self._specs[series] = chart.to_dict(validate=False)
        self.panel.show(spec)
        self.version += 1
        self.status.value = _status(self.version, series)


def service_health(settings: Settings | None = None) -> W.VBox:
    """The service health dashboard (displays its first paint; returns the widget to show)."""
    return _display(ServiceHealth(settings=settings))
