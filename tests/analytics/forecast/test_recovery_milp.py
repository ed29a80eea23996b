"""Initiative selection under a budget: the MILP finds the optimum the greedy rule misses."""

from __future__ import annotations

import pytest

from opskit.analytics.forecast import (
    Initiative,
    forecast_revenue_with_constraints,
    initiatives_from_revenue_impact,
    optimise_initiatives,
)
from opskit.catalog import load

A = Initiative("A", cost_usd=6, recovered_usd=10)  # best ROI, but crowds out B + C
B = Initiative("B", cost_usd=5, recovered_usd=7)
C = Initiative("C", cost_usd=5, recovered_usd=7)


def selected(res) -> set[str]:
    return set(res.summary["selected"])


def test_milp_beats_greedy_on_a_hand_checkable_case():
    res = optimise_initiatives([A, B, C], budget_usd=10)
    assert selected(res) == {"B", "C"}
    assert res.summary["recovered_usd"] == 14
    assert res.summary["greedy_recovered_usd"] == 10


def test_exclusion_and_dependency_are_respected():
    b_excl = Initiative("B", 5, 7, excludes=("C",))
    assert selected(optimise_initiatives([A, b_excl, C], budget_usd=10)) == {"A"}
    d = Initiative("D", cost_usd=1, recovered_usd=20, requires=("A",))
    res = optimise_initiatives([A, B, C, d], budget_usd=10)
    assert selected(res) == {"A", "D"}  # 30 beats B + C (14) and B + C + nothing else


def test_interval_and_gap_to_baseline_loss():
    items = [Initiative("A", 6, 10, recovered_sd_usd=2), B, C]
    res = optimise_initiatives(items, budget_usd=6, baseline_loss_usd=50, level=0.8)
    s = res.summary
    assert s["recovered_lower_usd"] < s["recovered_usd"] < s["recovered_upper_usd"]
    assert s["gap_usd"] == pytest.approx(40)
    assert s["recovery_share"] == pytest.approx(0.2)
    assert "remaining gap" in res.findings[0].text()


@pytest.mark.parametrize(
    ("items", "budget", "match"),
    [
        ([A], -1, "budget"),
        ([A, A], 10, "unique"),
        ([Initiative("X", 1, 1, requires=("nope",))], 10, "unknown"),
    ],
)
def test_bad_input_raises(items, budget, match):
    with pytest.raises(ValueError, match=match):
        optimise_initiatives(items, budget_usd=budget)


def test_nothing_affordable_selects_nothing():
    res = optimise_initiatives([A, B], budget_usd=1)
    assert selected(res) == set() and res.summary["recovered_usd"] == 0


def test_negative_initiative_values_are_rejected():
    with pytest.raises(ValueError, match="cost_usd"):
        Initiative("bad", cost_usd=-5, recovered_usd=1)


def test_initiatives_come_from_revenue_impact_drivers(settings):
    impact = load("revenue_impact", settings=settings)
    items = initiatives_from_revenue_impact(
        impact, cost_usd=1000, effectiveness=0.5, timeline_months=6
    )
    drivers = set(impact["driver"]) - {"baseline"}
    assert {i.name for i in items} == {f"reduce {d}" for d in drivers}
    lost = impact.set_index("driver")["revenue_lost_annual_usd"]
    for i in items:
        assert i.recovered_usd == pytest.approx(0.5 * lost[i.name.removeprefix("reduce ")] / 2)
    with pytest.raises(ValueError, match="no value for driver"):
        initiatives_from_revenue_impact(
            impact, cost_usd={"payment_failure": 1.0}, effectiveness=0.5
        )


def test_constrained_forecast_end_to_end(settings):
    res = forecast_revenue_with_constraints(
        settings, budget_usd=3000, cost_usd=1000, effectiveness=0.3, effectiveness_sd=0.1
    )
    s = res.summary
    assert s["spent_usd"] <= 3000
    assert 0 <= s["recovered_usd"] <= s["baseline_loss_usd"]
    assert res.provenance.kind == "demo"
    res.chart().to_dict()
