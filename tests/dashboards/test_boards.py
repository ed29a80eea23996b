"""Board views: what a dashboard page shows, computed once per warehouse build and then read."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest
from altair.vegalite.v6.schema.core import Root

from opskit.catalog import load
from opskit.config import load_settings
from opskit.dashboards import builders
from opskit.dashboards.data import DashboardData
from opskit.dashboards.filters import Filters
from opskit.dashboards.serving.files import write_chart_bundle
from opskit.dashboards.store import BoardView
from opskit.dashboards.views import board_view
from opskit.dashboards.widgets import ServiceHealth


def _card_values(view: BoardView) -> dict[str, float]:
    return {
        k: float(v) for k, v in re.findall(r'data-kpi="([^"]+)" data-value="([^"]+)"', view.cards)
    }


def test_a_view_is_computed_once_then_read_from_the_memo(
    demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = DashboardData()
    region = data.options["region"][1]
    first = board_view("overview", Filters(days=7, region=region), data=data)
    assert first is not None

    def refuse(*_a: Any, **_k: Any) -> BoardView:
        raise AssertionError("recomputed a stored view")

    monkeypatch.setattr(builders, "compute_overview", refuse)
    again = board_view("overview", Filters(days=7, region=region))
    assert again == first and BoardView.from_json(first.to_json()) == first
    assert (
        board_view("overview", Filters(days=7, region=data.options["region"][2]), compute=False)
        is None
    )


def test_overview_numbers_are_catalog_numbers_and_charts_are_valid_vega_lite(
    demo_env: dict[str, str],
) -> None:
    data = DashboardData()
    f = Filters(days=30, plan=data.options["plan"][0])
    view = builders.compute_overview(data, f, svg=True)
    start = (data.as_of - pd.Timedelta(days=30)).isoformat()
    kpis = load("kpi_summary", plan=f.plan, start=start).set_index("kpi")["value"]
    shown = _card_values(view)
    for kpi in ("subscribers", "churn_rate", "mrr", "mrr_at_risk_30d", "revenue_lost_to_churn",
                "open_critical_issues", "streaming_health"):  # fmt: skip
        assert shown[kpi] == pytest.approx(float(kpis[kpi]), rel=1e-12), kpi
    assert set(view.charts) == set(view.svgs) == {
        "revenue_pareto", "cohorts", "issues", "production_pareto", "qoe", "qoe_device"
    }  # fmt: skip
    for name, spec in view.charts.items():
        Root.from_dict(spec)  # raises on anything Vega-Lite would reject
        assert f"plan {f.plan}" in json.dumps(spec), name  # every chart says what it shows
        assert view.svgs[name].startswith("<svg") and 'class="marks"' in view.svgs[name]
    assert view.provenance.kind == "demo" and "<li>" in view.insights


def test_a_live_source_turns_the_memo_off(
    demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert board_view("overview") is not None  # stored
    assert board_view("overview", compute=False) is not None
    monkeypatch.setenv("OPSKIT_NEWRELIC__MODE", "live")
    live = load_settings()
    assert board_view("overview", settings=live, compute=False) is None  # never frozen


def test_service_health_drills_to_any_series_and_reuses_stored_drill_targets(
    demo_env: dict[str, str],
) -> None:
    board = ServiceHealth()
    stored = set(board.view.extra["series_specs"])
    assert {t for t in board.targets.values() if t} <= stored
    other = next(s for s in board.view.extra["series"] if s not in stored)
    board.picker.value = other
    assert board.version == 1 and other in board._specs
    Root.from_dict(board.panel.chart.spec)
    assert other in json.dumps(board.panel.chart.spec, ensure_ascii=False)


def test_a_viewer_kernel_reads_views_without_altair_or_the_catalog(
    demo_env: dict[str, str],
) -> None:
    board_view("overview", svg=True)
    board_view("health", svg=True)
    write_chart_bundle()  # what `opskit dashboard` serves the chart JavaScript from
    code = (
        "import sys\n"
        "from opskit.dashboards import widgets\n"
        "b = widgets.OpsOverview(); h = widgets.ServiceHealth()\n"
        "b.update(widgets.Filters())\n"
        "print(sorted(m for m in ('altair', 'opskit.catalog', 'sklearn', 'jsonschema') if m in sys.modules))\n"
    )
    env = {**demo_env, "VOILA_BASE_URL": "/", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    assert out.stdout.strip() == "[]", out.stderr
