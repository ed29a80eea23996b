"""The five seed analyses (plus executive summary and service health) return honest Results."""

from __future__ import annotations

import pytest

from opskit import analyses
from opskit.analytics._result import Result
from opskit.catalog import load
from opskit.config import Settings
from opskit.errors import ParameterError


@pytest.fixture(scope="module")
def cohort(demo_env: dict[str, str]) -> str:
    cs = load("churn_signals", min_subscribers=0)
    return str(cs.loc[cs["is_at_risk"], "cohort_id"].iloc[0])


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("churn_root_cause", {}),
        ("complaint_themes", {"days_back": 60, "fixable_only": False}),
        ("production_risk", {"severity": "high", "by": "team"}),
        ("revenue_forecast", {"budget": 400_000, "months": 6, "scenario": "conservative"}),
        ("retention_campaign", {"budget": 5_000}),
        ("executive_summary", {"region": "us"}),
        ("service_health", {"days": 2, "resolution": "15min"}),
    ],
)
def test_analysis_returns_a_result_with_findings_chart_and_demo_provenance(
    name: str, kwargs: dict, settings: Settings
) -> None:
    result = analyses.ANALYSES[name](settings=settings, **kwargs)
    assert isinstance(result, Result)
    assert len(result.frame) > 0
    assert result.provenance.kind == "demo"
    assert result.findings, "every analysis should say something"
    assert all(f.text().endswith("[demo data]") for f in result.findings)
    spec = result.chart().to_dict()
    assert "DEMO DATA" in str(spec["title"])  # the chart says where its numbers came from
    html = result._repr_html_()
    assert 'class="opskit-provenance"' in html and "DEMO DATA" in html


def test_cohort_analyses_focus_on_the_cohort(cohort: str, settings: Settings) -> None:
    root = analyses.analyze_churn_root_cause(cohort=cohort, settings=settings)
    assert root.summary["cohort"] == cohort
    campaign = analyses.generate_retention_campaign(cohort=cohort, budget=1_000, settings=settings)
    treated = campaign.summary["treated"]
    assert campaign.summary["campaign_cost_usd"] <= 1_000 and treated == int(
        campaign.summary["campaign_cost_usd"] / 2.5
    )
    assert set(campaign.frame["group"]) <= {"treatment", "control"}
    assert campaign.frame["churn_risk"].is_monotonic_decreasing
    assert list(campaign.tables["power"].columns)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda s: analyses.analyze_complaint_themes(days_back=3, settings=s),
            r"days_back: Input should be greater than or equal to 7",
        ),
        (
            lambda s: analyses.analyze_production_risk(severity="urgent", settings=s),
            r"severity: Input should be 'critical', 'high', 'medium' or 'low'",
        ),
        (
            lambda s: analyses.forecast_revenue_with_constraints(scenario="wild", settings=s),
            r"scenario: Input should be 'conservative', 'moderate' or 'aggressive'",
        ),
        (
            lambda s: analyses.forecast_revenue_with_constraints(budget=-5, settings=s),
            r"budget: Input should be greater than or equal to 0",
        ),
        (
            lambda s: analyses.generate_retention_campaign(cohort="nope|x|y", settings=s),
            r"unknown cohort 'nope\|x\|y'; at-risk cohorts include: ",
        ),
        (
            lambda s: analyses.analyze_churn_root_cause(cohort="nope", settings=s),
            r"unknown cohort 'nope'",
        ),
        (
            lambda s: analyses.executive_summary(top_findings=0, settings=s),
            r"top_findings: Input should be greater than or equal to 1",
        ),
    ],
)
def test_bad_parameters_get_a_clear_error(call, message: str, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterError, match=message):
        call(settings)


def test_production_risk_concentration_is_a_share_not_a_sum_of_cumulatives(
    settings: Settings,
) -> None:
    result = analyses.analyze_production_risk(settings=settings)
    share = result.summary["top3_delay_share"]
    assert 0 < share <= 1  # the seed added cumulative shares and reported 158 %
    crit = result.tables["critical_path"]
    if len(crit):
        assert (crit["median_days"] > 0).all() and (crit["upper_90"] >= crit["median_days"]).all()


@pytest.mark.parametrize("name", sorted(analyses.ANALYSES))
def test_findings_stakes_share_one_basis_and_are_ranked_on_it(
    name: str, settings: Settings
) -> None:
    result = analyses.ANALYSES[name](settings=settings)
    money = [f for f in result.findings if f.impact_usd is not None]
    for f in money:
        assert f.impact_usd_per_year is not None, f.title
        assert "per year" in f.stake_text(), f.stake_text()
    if name != "revenue_forecast":  # the plan's decision leads its report, then the outlook
        basis = [f.stake_usd_per_year for f in result.findings if f.stake_usd_per_year is not None]
        assert basis == sorted(basis, reverse=True)
    assert result.headline and result.title and "_" not in result.title


@pytest.mark.parametrize("name", sorted(analyses.ANALYSES))
def test_every_summary_key_and_shown_column_reads_as_words(name: str, settings: Settings) -> None:
    from opskit.present import has_term
    from opskit.present.page import result_tables

    result = analyses.ANALYSES[name](settings=settings)
    assert [k for k in result.summary if not has_term(k, result.name)] == []
    for _, spec, _rows in result_tables(result):
        missing = [
            c for c in (spec.columns or ()) if not has_term(c, result.name) and c not in spec.labels
        ]
        assert missing == [], (spec.title, missing)
