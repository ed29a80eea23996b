"""The Pareto engine on the demo warehouse's catalog frames."""

from __future__ import annotations

import pytest

import opskit.catalog as catalog
from opskit.analytics.pareto import pareto, pareto_table


@pytest.fixture()
def issues(settings):
    return catalog.load("production_issues", settings=settings)


def test_delay_by_component_matches_the_pareto_table_of_the_catalog(issues):
    r = pareto(issues, "delay_days", "component")
    reference = pareto_table(issues.groupby("component")["delay_days"].sum())
    assert r.frame["component"].tolist() == reference["item"].tolist()
    assert (
        r.vital_few["component"].tolist()
        == reference.loc[reference["is_vital_few"], "item"].tolist()
    )
    assert r.frame["abc_class"].astype(str).tolist() == reference["abc_class"].tolist()
    assert r.summary["total"] == pytest.approx(issues["delay_days"].sum())
    assert r.frame["n_rows"].sum() == len(issues)
    assert r.provenance.kind == "demo" and "[demo data]" in r.findings[0].text()


def test_drilldown_show_component_cause_on_demo_issues(issues):
    by = ["show", "component", "root_cause"]
    r = pareto(issues, "cost_overrun_usd", by, period="year")
    assert r.frame["value"].sum() == pytest.approx(issues["cost_overrun_usd"].sum())
    shows = r.drilldown("show")
    assert shows["show"].isna().sum() == int(issues["show"].isna().any())  # issues without a show
    vital_shows = set(shows.loc[shows["is_vital_few"], "show"].dropna())
    components = r.drilldown("component")
    assert set(components["show"].dropna()) <= vital_shows
    assert components.groupby("show", dropna=False)["share"].sum().to_numpy() == pytest.approx(1.0)
    assert r.findings[0].impact_usd == pytest.approx(r.vital_few["value"].sum())
    assert r.chart().to_dict()["layer"][0]["mark"]["type"] == "bar"


@pytest.mark.parametrize(
    ("dataset", "value", "by", "unit", "period"),
    [
        ("churn_signals", "revenue_at_risk_30d_usd", "cohort_id", "usd", "30 days"),
        ("churn_signals", "projected_churners_30d", ["region", "plan"], "subscribers", ""),
        ("revenue_impact", "revenue_lost_annual_usd", "driver", "usd", "year"),
        ("complaints_topics", "tickets", "theme", "", ""),
    ],
)
def test_demo_frames_give_consistent_results(settings, dataset, value, by, unit, period):
    frame = catalog.load(dataset, settings=settings)
    r = pareto(frame, value, by)
    assert (r.summary["unit"], r.summary["period"]) == (unit, period)
    assert r.summary["total"] == pytest.approx(frame[value].sum())
    assert r.frame["cumulative_share"].is_monotonic_increasing
    assert r.summary["vital_few_share"] >= 0.8 - 1e-9
    focus = r.findings[0]
    assert (focus.impact_usd is not None) == (unit == "usd")
    assert (focus.impact_subscribers is not None) == (unit == "subscribers")
    assert r.what_if_table()["remaining_value"].iloc[-1] >= -1e-6
