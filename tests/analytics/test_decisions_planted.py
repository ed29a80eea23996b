"""The initiative plan against the demo's planted truth: what it funds pays, at every budget.

The demo plants each initiative's true effect and the revenue each churn driver truly
costs (``demo_truth``: ``initiative`` and ``initiative_driver``). From those, the best mix
for a budget is known exactly; the plan opskit chooses from the planning table's
estimates must pay back, be worth what the truth's best mix is worth within its own
interval, and say so plainly when nothing pays back.
"""

from __future__ import annotations

import duckdb
import pytest

from opskit import analyses
from opskit.analytics.decisions import Initiative, optimise_initiatives
from opskit.catalog import load
from opskit.config import Settings

#: Budgets of the acceptance (at the 1x demo business; costs scale with the demo).
BUDGETS = (0, 250_000, 500_000, 2_000_000, None)
LEVEL = 0.9


@pytest.fixture(scope="module")
def truth(demo_path) -> dict[str, object]:
    con = duckdb.connect(str(demo_path), read_only=True)
    try:
        rows = con.sql(
            "select kind, subject, value from demo_truth where kind in ('initiative', 'initiative_driver')"
        ).fetchall()
        scale = float(
            con.sql("select value from opskit_meta where key = 'scale'").fetchone()[0]  # type: ignore[index]
        )
    finally:
        con.close()
    return {
        "effect": {s: v for k, s, v in rows if k == "initiative"},
        "loss": {s: v for k, s, v in rows if k == "initiative_driver"},
        "scale": scale,
    }


def _true_best(
    truth: dict, budget: float | None, months: int = 12
) -> tuple[set[str], float, dict[str, float]]:
    """The best mix computed from the truth, its net value, and every initiative's true net."""
    plans = load("initiatives")
    items = [
        Initiative(
            r.initiative_id,
            cost_usd=r.setup_cost_usd + r.monthly_cost_usd * months,
            recovered_usd=truth["effect"][r.initiative_id] * truth["loss"][r.driver] * months,
            requires=tuple(x for x in r.requires.split(",") if x),
            excludes=tuple(x for x in r.excludes.split(",") if x),
        )
        for r in plans.itertuples()
    ]
    best = optimise_initiatives(items, budget)
    true_net = {i.name: i.net_value_usd for i in items}
    return set(best.summary["selected"]), float(best.summary["net_value_usd"]), true_net


@pytest.mark.parametrize(
    "budget", BUDGETS, ids=lambda b: "unconstrained" if b is None else f"{b:,}"
)
def test_the_chosen_mix_pays_and_is_worth_the_truths_best(
    budget: float | None, truth: dict, settings: Settings
) -> None:
    scaled = None if budget is None else budget * truth["scale"]
    result = analyses.forecast_revenue_with_constraints(
        budget=scaled, level=LEVEL, settings=settings
    )
    s = result.summary
    chosen = set(s["selected"]) if s["selected"] != "none" else set()
    assert s["net_value_usd"] >= 0
    assert s["spent_usd"] <= (scaled if scaled is not None else float("inf"))
    _, best_net, true_net = _true_best(truth, scaled)
    # what the chosen mix truly earns, against the truth's best mix, within the plan's interval
    assert s["net_low_usd"] <= best_net <= s["net_high_usd"], (
        s["net_low_usd"],
        best_net,
        s["net_high_usd"],
    )
    assert sum(true_net[i] for i in chosen) >= 0
    plan = result.tables["plan"]
    assert not plan.loc[plan["is_selected"] & ~plan["pays_back"]].shape[
        0
    ]  # nothing that loses money
    decision = result.findings[0]
    if not chosen:
        assert decision.title.startswith("No initiative")
        assert decision.title in result.headline
    else:
        assert decision.title.startswith("Fund ") and "net value" in decision.title


def test_driver_losses_recover_what_each_driver_truly_costs(
    truth: dict, settings: Settings
) -> None:
    from opskit.analytics.churn import driver_frame, driver_losses

    losses = driver_losses(driver_frame(load("subscriber_months", settings=settings)))
    assert set(losses["driver"]) >= {"payment_failure", "low_engagement", "high_rebuffering"}
    for r in losses.itertuples():
        true = truth["loss"][r.driver]
        error = abs(r.revenue_lost_per_month_usd - true)
        assert error <= 3 * r.revenue_lost_sd_usd + 0.1 * true + 1e-6, (
            r.driver,
            r.revenue_lost_per_month_usd,
            true,
        )
