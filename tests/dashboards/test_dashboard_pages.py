"""The dashboards in a real browser: page contract, offline charts, filters, drill-down."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from opskit.catalog import load
from opskit.dashboards.data import DashboardData
from opskit.present.lint import text_problems

pytestmark = pytest.mark.slow

OVERVIEW_KPIS = ["subscribers", "churn_rate", "mrr", "mrr_at_risk_30d", "revenue_lost_to_churn",
                 "open_critical_issues", "streaming_health"]  # fmt: skip
OVERVIEW_CHARTS = ["revenue_pareto", "cohorts", "issues", "production_pareto", "qoe", "qoe_device"]
HEALTH_KPIS = ["critical_services", "degraded_services", "alerts", "open_problems"]
ALL_CHARTS_DRAWN = """() => {
  const charts = [...document.querySelectorAll('.opskit-chart')];
  return charts.length > 0 && charts.every(c => c.querySelector('svg.marks, canvas.marks'));
}"""


def _open(page: Any, url: str) -> None:
    page.goto(url, wait_until="commit")
    page.locator(".opskit-kpi:visible").first.wait_for(timeout=60_000)
    page.wait_for_function(ALL_CHARTS_DRAWN, timeout=60_000)
    page.locator(".opskit-snapshot").first.wait_for(state="hidden", timeout=30_000)


def _kpi_value(page: Any, kpi: str) -> float:
    card = page.locator(f'.opskit-kpi[data-kpi="{kpi}"]:visible')
    return float(card.get_attribute("data-value"))


def _assert_no_error_text(page: Any) -> None:
    text = page.inner_text("body")
    for bad in ("There was an error", "Traceback", "Error:"):
        assert bad not in text, f"error text on the page: {bad!r}"
    # what a person reads: no scientific notation, raw keys, reprs or log lines (charts included)
    charts = page.eval_on_selector_all("svg text", "ts => ts.map(t => t.textContent).join(' | ')")
    problems = text_problems(text) + text_problems(charts)
    assert problems == [], problems


def test_ops_overview_renders_every_kpi_and_chart_offline(
    page: Any, voila: dict[str, str], screenshot: Any
) -> None:
    _open(page, voila["ops_overview"])
    for kpi in OVERVIEW_KPIS:
        card = page.locator(f'.opskit-kpi[data-kpi="{kpi}"]:visible')
        assert card.count() == 1, kpi
        assert card.locator(".val").inner_text().strip() not in ("", "n/a"), kpi
    for name in OVERVIEW_CHARTS:
        chart = page.locator(f".opskit-chart-{name}")
        assert chart.locator("svg.marks").count() >= 1, f"chart {name} not drawn"
    banner = page.locator(".opskit-provenance:visible").first
    assert banner.get_attribute("data-provenance") == "demo"
    assert "DEMO DATA" in banner.inner_text()
    _assert_no_error_text(page)
    screenshot(page, "ops_overview")


def test_region_filter_updates_kpis_to_opskit_values(
    page: Any, voila: dict[str, str], screenshot: Any
) -> None:
    data = DashboardData()
    region = data.options["region"][0]
    _open(page, voila["ops_overview"])
    before = _kpi_value(page, "subscribers")

    page.locator(".opskit-filter-region select").select_option(label=region)
    page.locator('.opskit-status[data-version="1"]').wait_for(state="attached", timeout=30_000)
    page.wait_for_function(
        "(r) => [...document.querySelectorAll('.opskit-chart-qoe svg text')]"
        ".some(t => t.textContent.includes('region ' + r))",
        arg=region,
        timeout=30_000,
    )
    start = (data.as_of - pd.Timedelta(days=30)).isoformat()
    expected = load("kpi_summary", region=region, start=start).set_index("kpi")["value"]
    shown = {k: _kpi_value(page, k) for k in OVERVIEW_KPIS}
    assert shown["subscribers"] != before
    for kpi, value in shown.items():
        assert value == pytest.approx(float(expected[kpi]), rel=1e-9), kpi
    # revenue at risk is the metric's definition: the at-risk cohorts of churn_signals
    cohorts = load("churn_signals", region=region, start=start)
    at_risk = cohorts.loc[cohorts["is_at_risk"], "revenue_at_risk_30d_usd"].sum()
    assert shown["mrr_at_risk_30d"] == pytest.approx(float(at_risk))
    screenshot(page, f"ops_overview_region_{region}")


def test_service_health_renders_and_drills_down_to_a_series(
    page: Any, voila: dict[str, str], screenshot: Any
) -> None:
    _open(page, voila["service_health"])
    for kpi in HEALTH_KPIS:
        assert page.locator(f'.opskit-kpi[data-kpi="{kpi}"]:visible').count() == 1, kpi
    assert page.locator(".opskit-chart-anomalies svg.marks").count() >= 1
    assert page.locator(".opskit-chart-alerts svg.marks").count() >= 1
    assert "DEMO DATA" in page.locator(".opskit-provenance:visible").first.inner_text()
    _assert_no_error_text(page)

    page.locator(".opskit-drill-alerts button, button.opskit-drill-alerts").first.click()
    status = page.locator(".opskit-status")
    page.wait_for_function(
        "() => document.querySelector('.opskit-status[data-version]')?.dataset.version !== '0'",
        timeout=30_000,
    )
    series = status.get_attribute("data-filters")
    title = page.locator(".opskit-chart-anomalies svg text", has_text=series)
    title.first.wait_for(timeout=30_000)
    screenshot(page, "service_health")


@pytest.mark.parametrize(
    ("name", "kpis", "charts"),
    [("ops_overview", OVERVIEW_KPIS, 6), ("service_health", HEALTH_KPIS, 2)],
)
def test_first_paint_shows_kpis_and_charts_before_any_script_runs(
    browser: Any, voila: dict[str, str], screenshot: Any, name: str, kpis: list[str], charts: int
) -> None:
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1300, "height": 900})
    ctx.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort(),
    )
    page = ctx.new_page()
    try:
        page.goto(voila[name], wait_until="load")
        for kpi in kpis:
            assert page.locator(f'.opskit-snapshot .opskit-kpi[data-kpi="{kpi}"]').is_visible(), kpi
        drawn = page.locator(".opskit-snapshot-chart svg.marks")
        assert drawn.count() == charts
        assert all(drawn.nth(i).is_visible() for i in range(charts))
        banner = page.locator(".opskit-snapshot .opskit-provenance")
        assert banner.get_attribute("data-provenance") == "demo" and banner.is_visible()
        screenshot(page, f"{name}_first_paint")
    finally:
        ctx.close()
