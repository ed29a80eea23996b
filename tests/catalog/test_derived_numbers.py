"""Dataset numbers are derived from the rows, and agree with independent computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opskit.catalog import load
from opskit.config import Settings
from opskit.warehouse import Warehouse

AS_OF = pd.Timestamp("2026-11-01", tz="UTC")


@pytest.fixture(scope="module")
def raw(demo_path: Path) -> dict[str, pd.DataFrame]:
    with Warehouse(f"duckdb://{demo_path}") as wh:
        return {
            t: wh.table(t).to_pandas()
            for t in (
                "production_issues",
                "subscriptions",
                "revenue",
                "campaign_assignments",
                "campaigns",
                "complaints",
            )
        }


def test_issue_delay_and_overrun_match_a_pandas_recomputation(
    settings: Settings, raw: dict
) -> None:
    got = load("production_issues", settings=settings).set_index("key")
    src = raw["production_issues"].set_index("key").loc[got.index]
    end = src["resolved"].fillna(AS_OF)
    delay = ((end - src["due"]).dt.total_seconds() / 86400).clip(lower=0)
    np.testing.assert_allclose(got["delay_days"], delay, rtol=1e-9)
    np.testing.assert_allclose(
        got["cost_overrun_usd"], (src["actual_cost_usd"] - src["budget_usd"]).clip(lower=0)
    )


def test_on_time_rate_counts_issues_resolved_by_their_due_date(
    settings: Settings, raw: dict
) -> None:
    eff = load("operational_efficiency", settings=settings).set_index("team")
    src = raw["production_issues"]
    lo = AS_OF - pd.Timedelta(days=90)
    done = src[(src["resolved"] >= lo) & (src["resolved"] < AS_OF)]
    assert eff.loc["all", "resolved"] == len(done)
    assert eff.loc["all", "on_time_rate"] == pytest.approx((done["resolved"] <= done["due"]).mean())
    assert eff.loc["all", "cycle_time_median_days"] == pytest.approx(
        ((done["resolved"] - done["created"]).dt.total_seconds() / 86400).median()
    )
    assert eff.drop(index="all")["resolved"].sum() == eff.loc["all", "resolved"]


def test_revenue_impact_rows_add_up_to_the_revenue_actually_lost(
    settings: Settings, raw: dict
) -> None:
    df = load("revenue_impact", settings=settings)
    ev = raw["subscriptions"]
    cancels = ev[
        (ev["event_type"] == "cancel") & (ev["event_time"] >= AS_OF - pd.Timedelta(days=90))
    ]
    # Each cancelled subscriber's price at the time of cancelling, annualised.
    assert df["revenue_lost_annual_usd"].sum() == pytest.approx(
        (cancels["price_usd"] * 12).sum(), rel=1e-6
    )
    assert df["churners_attributed"].sum() == pytest.approx(len(cancels), rel=1e-6)
    assert df["share"].sum() == pytest.approx(1.0)
    payment = df.set_index("driver").loc["payment_failure"]
    assert payment["relative_risk"] > 1.5  # planted: failed payments drive churn


def test_campaign_uplift_is_treated_minus_control_retention(settings: Settings, raw: dict) -> None:
    df = load("retention_campaigns", settings=settings).set_index("campaign_id")
    a = raw["campaign_assignments"].merge(raw["campaigns"], on="campaign_id")
    ev = raw["subscriptions"]
    churned = ev[ev["event_type"] == "cancel"].groupby("subscriber_id")["event_time"].min()
    a["churned_at"] = a["subscriber_id"].map(churned)
    a["retained"] = a["churned_at"].isna() | (a["churned_at"] > a["end_date"])
    rates = a.groupby(["campaign_id", "group"])["retained"].mean().unstack()
    np.testing.assert_allclose(df["uplift"], (rates["treatment"] - rates["control"]).loc[df.index])
    assert (df["uplift_ci_low"] <= df["uplift"]).all() and (
        df["uplift"] <= df["uplift_ci_high"]
    ).all()


def test_market_revenue_comes_from_the_revenue_table(settings: Settings, raw: dict) -> None:
    df = load("international_markets", settings=settings).set_index("region")
    rev = raw["revenue"]
    d = pd.to_datetime(rev["date"])
    window = rev[(d >= "2026-10-02") & (d < "2026-11-01")]
    total = window["subscription_revenue_usd"] + window["ad_revenue_usd"]
    expected = (total + window["transactional_revenue_usd"]).groupby(window["region"]).sum()
    np.testing.assert_allclose(df["revenue_usd"], expected.loc[df.index], rtol=1e-9)


def test_complaint_themes_count_tickets_in_the_window(settings: Settings, raw: dict) -> None:
    df = load("complaints_topics", settings=settings).set_index("theme")
    c = raw["complaints"]
    window = c[c["created_at"] >= AS_OF - pd.Timedelta(days=30)]
    expected = window.groupby("category").size()
    assert df["tickets"].to_dict() == expected.loc[df.index].to_dict()
    assert df["share"].sum() == pytest.approx(1.0)


def test_pareto_vital_few_is_the_smallest_set_reaching_the_target(settings: Settings) -> None:
    df = load("pareto_analysis", settings=settings, target=0.8)
    for _dim, g in df.groupby("dimension"):
        g = g.sort_values("rank")
        k = int(g["is_vital_few"].sum())
        assert g["cumulative_share"].iloc[k - 1] >= 0.8 - 1e-9
        if k > 1:
            assert g["cumulative_share"].iloc[k - 2] < 0.8
        assert g["share"].sum() == pytest.approx(1.0)


def test_churn_signals_find_cohorts_with_planted_drivers(settings: Settings) -> None:
    df = load("churn_signals", settings=settings, min_subscribers=0)
    # Annual-plan subscribers churn far less (planted log hazard ratio -1.3).
    by_plan = df.groupby("plan").apply(
        lambda g: g["churned"].sum() / max(g["subscribers_at_start"].sum(), 1), include_groups=False
    )
    assert by_plan["annual"] < by_plan["ad_supported"] / 2
    assert (df["revenue_at_risk_30d_usd"] >= 0).all()
