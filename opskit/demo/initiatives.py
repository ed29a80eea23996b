"""Planned retention initiatives, with the effect each one truly has.

The ``initiatives`` table is what a planning team writes down: the cost of each
initiative and the share of one churn driver's attributable cancellations it
*expects* to prevent, with an uncertainty. The true share is drawn around that
estimate and recorded in ``demo_truth`` (``kind = 'initiative'``), next to the
revenue each driver truly costs per month (``kind = 'initiative_driver'``, from
:func:`opskit.demo.population.simulate`), so a test can compute the best mix from
the truth and check the one opskit chooses from the estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.demo.truth import Truth

#: (id, name, driver, setup cost, monthly cost, expected effect, effect sd, requires, excludes)
PLANS: tuple[tuple[str, str, str, float, float, float, float, str, str], ...] = (
    ("INI-01", "Smart payment retries and card updater", "payment_failure", 30_000, 2_500, 0.45, 0.08, "", "INI-02"),
    ("INI-02", "Pre-expiry payment reminders", "payment_failure", 8_000, 1_000, 0.15, 0.05, "", "INI-01"),
    ("INI-03", "Route high-rebuffering ISPs to the best CDN", "high_rebuffering", 60_000, 5_000, 0.30, 0.08, "", "INI-04"),
    ("INI-04", "Multi-CDN real-time switching", "high_rebuffering", 250_000, 20_000, 0.50, 0.12, "", "INI-03"),
    ("INI-05", "Personalised win-back for inactive viewers", "low_engagement", 40_000, 6_000, 0.30, 0.08, "", ""),
    ("INI-06", "Win-back push notifications", "low_engagement", 15_000, 3_000, 0.08, 0.04, "INI-05", ""),
    ("INI-07", "Complaint follow-up within 48 hours", "complaint_contact", 10_000, 9_000, 0.25, 0.10, "", ""),
    ("INI-08", "Loyalty discount for price-rise subscribers", "price_increase", 30_000, 60_000, 0.40, 0.10, "", ""),
    ("INI-09", "Fill release gaps in under-served genres", "content_gap", 600_000, 0, 0.25, 0.10, "", ""),
)  # fmt: skip


def initiatives_table(rng: np.random.Generator, truth: Truth, scale: float = 1.0) -> pd.DataFrame:
    """The planned initiatives; the true effect of each goes to ``demo_truth``.

    Costs scale with the business (``scale``): a smaller demo business plans
    smaller initiatives, so the decisions read the same at every size.
    """
    frame = pd.DataFrame(
        PLANS,
        columns=["initiative_id", "name", "driver", "setup_cost_usd", "monthly_cost_usd",
                 "effect", "effect_sd", "requires", "excludes"],
    )  # fmt: skip
    frame[["setup_cost_usd", "monthly_cost_usd"]] = (
        frame[["setup_cost_usd", "monthly_cost_usd"]] * scale
    ).round(2)
    true = np.clip(
        frame["effect"] + rng.normal(0.0, 1.0, len(frame)) * frame["effect_sd"] * 0.5, 0, 1
    )
    for r, effect in zip(frame.itertuples(), true, strict=True):
        truth.add(
            "initiative", "true_effect", float(effect), subject=r.initiative_id, unit="fraction",
            detail=f"driver={r.driver}; share of the driver's attributable cancellations prevented",
        )  # fmt: skip
    return frame
