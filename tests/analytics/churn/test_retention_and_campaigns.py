"""Kaplan-Meier, churn rates, at-risk segments, campaign uplift and power on known inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

import opskit.analytics.churn as churn


def test_kaplan_meier_matches_a_hand_computed_curve() -> None:
    # times 1,2,2,3,4(censored),5 -> S(1)=5/6, S(2)=5/6*3/5, S(3)=.. *1/2, S(5)=0
    km = churn.kaplan_meier([1, 2, 2, 3, 4, 5], [1, 1, 1, 1, 0, 1])
    assert km["time"].tolist() == [1, 2, 3, 5]
    assert km["at_risk"].tolist() == [6, 5, 3, 1]
    expected = np.cumprod([5 / 6, 3 / 5, 2 / 3, 0.0])
    assert np.allclose(km["survival"], expected)
    assert (km["ci_low"] <= km["survival"]).all() and (km["survival"] <= km["ci_high"]).all()


def test_kaplan_meier_delayed_entry_keeps_late_entrants_out_of_early_risk_sets() -> None:
    km = churn.kaplan_meier([2, 3, 10, 12], [1, 1, 1, 0], entry=[0, 0, 5, 5])
    assert km["at_risk"].tolist() == [2, 1, 2]  # the late entrants join the risk set at 5
    assert np.allclose(km["survival"], [0.5, 0.0, 0.0])


@pytest.mark.parametrize(
    ("duration", "event", "entry", "message"),
    [([], [], None, "no subjects"), ([1, np.nan], [1, 0], None, "NaN"),
     ([1, 2], [1, 0], [1, 0], "before its exit"), ([1, 2], [1], None, "equal lengths")],
)  # fmt: skip
def test_kaplan_meier_rejects_bad_input(duration, event, entry, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        churn.kaplan_meier(duration, event, entry)


def person_months(n: int = 600, months: int = 6, seed: int = 0) -> pd.DataFrame:
    """A synthetic subscriber_months-like frame: plan 'b' churns 3x as often as 'a'."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        plan = "a" if i % 2 else "b"
        tenure = float(rng.integers(0, 400))
        for m in range(months):
            churned = rng.random() < (0.03 if plan == "a" else 0.09)
            rows.append((i + 1, pd.Timestamp("2026-01-01", tz="UTC") + pd.DateOffset(months=m),
                         plan, tenure + 30.4375 * m, churned))  # fmt: skip
            if churned:
                break
    return pd.DataFrame(rows, columns=["subscriber_id", "month", "plan", "tenure_days", "churned"])


def test_retention_curves_per_group_with_bands_and_chart() -> None:
    result = churn.retention_curves(person_months(), by="plan", horizon_months=12)
    df = result.frame
    assert set(df["group"]) == {"a", "b"}
    at6 = df[df["tenure_months"] == 6].set_index("group")
    assert at6.loc["a", "retention"] > at6.loc["b", "retention"]
    assert (df["ci_low"] <= df["retention"] + 1e-12).all()
    assert (df.groupby("group")["retention"].apply(lambda s: s.is_monotonic_decreasing)).all()
    assert result.findings[0].where == "by plan" and "b" in result.findings[0].title
    assert result.chart().to_dict()["layer"]
    assert result.provenance.kind == "cache"  # caller data is never called live


def test_churn_rate_and_at_risk_segments() -> None:
    frame = person_months(2000)
    rates = churn.churn_rate_over_time(frame, by="plan")
    assert set(rates.frame["group"]) == {"a", "b"}
    assert rates.chart().to_dict()["layer"]
    seg = churn.at_risk_segments(frame, by=["plan"], min_subscribers=10)
    flagged = seg.frame[seg.frame["is_at_risk"]]
    assert flagged["plan"].tolist() == ["b"]
    assert seg.findings and seg.findings[0].where == "b"


def test_campaign_uplift_from_subscriber_rows() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    treated = rng.random(n) < 0.8
    retained = rng.random(n) < np.where(treated, 0.93, 0.90)
    frame = pd.DataFrame({"campaign_id": "C1", "group": np.where(treated, "treatment", "control"),
                          "retained": retained})  # fmt: skip
    r = churn.campaign_uplift(frame).frame.iloc[0]
    assert r["uplift_ci_low"] < 0.03 < r["uplift_ci_high"]
    assert r["is_significant"] and r["p_value"] < 1e-6
    assert r["treated"] + r["control"] == n


def test_campaign_uplift_rejects_bad_groups() -> None:
    bad = pd.DataFrame({"campaign_id": ["C1"] * 2, "group": ["treatment", "placebo"],
                        "retained": [True, False]})  # fmt: skip
    with pytest.raises(ValueError, match="treatment"):
        churn.campaign_uplift(bad)
    with pytest.raises(ValueError, match="empty"):
        churn.campaign_uplift(pd.DataFrame(columns=["campaign_id", "treated"]))


def test_sample_size_agrees_with_statsmodels_power() -> None:
    out = churn.campaign_sample_size(0.9, [0.01, 0.02], treated_share=0.5)
    h = proportion_effectsize(0.92, 0.9)
    n = NormalIndPower().solve_power(effect_size=abs(h), alpha=0.05, power=0.8, ratio=1.0)
    assert out.loc[1, "treated"] == int(np.ceil(n)) == out.loc[1, "control"]
    assert out.loc[0, "total"] > 3.5 * out.loc[1, "total"]  # ~quadratic in 1/uplift
    mde = churn.minimum_detectable_uplift(
        0.9, int(out.loc[1, "treated"]), int(out.loc[1, "control"])
    )
    assert mde == pytest.approx(0.02, abs=1e-3)
    with pytest.raises(ValueError, match="non-zero"):
        churn.campaign_sample_size(0.9, 0.0)
