"""Decisions that pay: the initiative mix maximises net value, and says when nothing pays back."""

from __future__ import annotations

import pandas as pd
import pytest

from opskit.analytics.decisions import (
    Initiative,
    campaign_value,
    initiatives_from_plans,
    optimise_initiatives,
)

# A has the best ROI but crowds out B + C, which together net more.
A = Initiative("A", cost_usd=6, recovered_usd=11)
B = Initiative("B", cost_usd=5, recovered_usd=8)
C = Initiative("C", cost_usd=5, recovered_usd=8)
LOSER = Initiative("L", cost_usd=10, recovered_usd=4)


def selected(res) -> set[str]:
    return set(res.summary["selected"])


def test_milp_maximises_net_value_where_greedy_by_roi_does_not() -> None:
    res = optimise_initiatives([A, B, C], budget_usd=10)
    assert selected(res) == {"B", "C"}
    assert res.summary["net_value_usd"] == 6
    assert res.summary["greedy_net_value_usd"] == 5


def test_an_initiative_that_loses_money_is_never_funded() -> None:
    res = optimise_initiatives([A, LOSER], budget_usd=None)
    assert selected(res) == {"A"}
    row = res.frame.set_index("initiative").loc["L"]
    assert not row["is_selected"] and not row["pays_back"] and row["roi"] == pytest.approx(-0.6)


def test_when_nothing_pays_back_the_answer_says_so_and_funds_nothing() -> None:
    res = optimise_initiatives([LOSER], budget_usd=None)
    assert selected(res) == set() and res.summary["spent_usd"] == 0
    finding = res.findings[0]
    assert finding.title == "No initiative pays back at these costs"
    assert "fund none" in finding.action and finding.impact_usd is None


def test_a_budget_too_small_for_any_paying_initiative_says_what_it_would_take() -> None:
    res = optimise_initiatives([A, B, LOSER], budget_usd=1)
    assert selected(res) == set()
    assert res.findings[0].title == "No initiative that pays back fits a budget of $1"
    assert "raise the budget to at least $5" in res.findings[0].action


def test_the_recovered_objective_says_plainly_when_its_mix_loses_money() -> None:
    res = optimise_initiatives([LOSER], budget_usd=None, objective="recovered")
    assert selected(res) == {"L"}
    finding = res.findings[0]
    assert "loses $6" in finding.title and "do not fund it" in finding.action
    assert finding.impact_usd == -6


def test_exclusion_and_dependency_are_respected() -> None:
    b_excl = Initiative("B", 5, 8, excludes=("C",))
    assert selected(optimise_initiatives([A, b_excl, C], budget_usd=10)) == {"A"}
    d = Initiative("D", cost_usd=1, recovered_usd=20, requires=("A",))
    assert selected(optimise_initiatives([A, B, C, d], budget_usd=10)) == {"A", "D"}


def test_payback_roi_and_net_value_interval() -> None:
    items = [Initiative("A", 6, 12, recovered_sd_usd=2), B]
    res = optimise_initiatives(items, budget_usd=6, timeline_months=12, level=0.8)
    s = res.summary
    assert s["net_low_usd"] < s["net_value_usd"] == 6 < s["net_high_usd"]
    row = res.frame.set_index("initiative").loc["A"]
    assert row["payback_months"] == pytest.approx(6.0)  # 6 spent / (12 recovered / 12 months)
    assert row["roi"] == pytest.approx(1.0)
    assert res.findings[0].impact_usd_per_year == pytest.approx(6)


@pytest.mark.parametrize(
    ("items", "budget", "match"),
    [
        ([A], -1, "budget"),
        ([A, A], 10, "unique"),
        ([Initiative("X", 1, 1, requires=("nope",))], 10, "unknown"),
    ],
)
def test_bad_input_raises(items, budget, match) -> None:
    with pytest.raises(ValueError, match=match):
        optimise_initiatives(items, budget_usd=budget)


def test_negative_initiative_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="cost_usd"):
        Initiative("bad", cost_usd=-5, recovered_usd=1)


def _losses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "driver": ["payment_failure", "content_gap"],
            "revenue_lost_per_month_usd": [30_000.0, 10_000.0],
            "revenue_lost_sd_usd": [3_000.0, 4_000.0],
        }
    )


def _plans(**extra) -> pd.DataFrame:
    row = {"initiative_id": "I1", "name": "retries", "driver": "payment_failure",
           "setup_cost_usd": 10_000.0, "monthly_cost_usd": 1_000.0, "effect": 0.4, "effect_sd": 0.1,
           "requires": "", "excludes": ""}  # fmt: skip
    return pd.DataFrame([row | extra])


def test_plans_are_valued_at_the_drivers_monthly_loss_over_the_timeline() -> None:
    (item,) = initiatives_from_plans(_plans(), _losses(), timeline_months=6)
    assert item.recovered_usd == pytest.approx(0.4 * 30_000 * 6)
    assert item.cost_usd == pytest.approx(10_000 + 6 * 1_000)
    # the effect's uncertainty and the loss estimate's, combined
    assert item.recovered_sd_usd == pytest.approx(
        6 * (0.1**2 * 30_000**2 + 0.4**2 * 3_000**2) ** 0.5
    )
    assert item.label == "retries" and item.driver == "payment_failure"
    shifted = initiatives_from_plans(_plans(), _losses(), timeline_months=6, effect_shift_sd=-1)[0]
    assert shifted.recovered_usd == pytest.approx(0.3 * 30_000 * 6)


def test_a_plan_on_a_driver_that_costs_nothing_recovers_nothing() -> None:
    (item,) = initiatives_from_plans(_plans(driver="price_increase"), _losses())
    assert item.recovered_usd == 0 and item.cost_usd > 0
    assert optimise_initiatives([item], None).summary["selected"] == []


def test_bad_plans_are_refused() -> None:
    with pytest.raises(ValueError, match="plans lack column"):
        initiatives_from_plans(_plans().drop(columns=["effect"]), _losses())
    with pytest.raises(ValueError, match="timeline_months"):
        initiatives_from_plans(_plans(), _losses(), timeline_months=0)


def test_a_campaign_that_costs_more_than_its_saves_are_worth_does_not_pay_back() -> None:
    v = campaign_value(1000, 0.01, 0.0, 0.02, value_per_save_usd=100, cost_usd=2_500)
    assert v.net_usd == pytest.approx(-1_500) and not v.pays_back
    assert v.breakeven_uplift == pytest.approx(0.025)
    assert v.net_low_usd < v.net_usd < v.net_high_usd
