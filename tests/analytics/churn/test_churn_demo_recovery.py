"""On the demo warehouse the churn analytics recover what the generator planted.

The test warehouse is small (scale 0.05: ~14k subscribers, ~100k subscriber-months,
~4,700 churners, a holdout month of ~8,900 subscribers with ~410 churners). Measured
at this scale (seed 7): every driver's log odds ratio is within 2.5 standard errors
of its planted log hazard ratio and the ranking of the top four drivers is exact;
the holdout AUC of the driver logit is 0.703 vs the planted model's 0.703, and of
the all-feature logit / gbm 0.693 / 0.694. Those gaps are what is asserted (0.02);
the holdout's sampling error itself is about 0.013, but model and oracle are scored
on the same subscribers, so the gap is much less noisy. The full-scale check is
``python -m benchmarks.churn``.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import opskit.analytics.churn as churn
import opskit.catalog as catalog
from opskit.config import load_settings
from opskit.datasets.features import SubscriberMonths
from opskit.schemas import columns, validate


@pytest.fixture(scope="module")
def months(demo_env: dict[str, str]) -> pd.DataFrame:
    return catalog.load("subscriber_months", settings=load_settings())


@pytest.fixture(scope="module")
def truth(demo_path) -> Iterator[pd.DataFrame]:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(demo_path), read_only=True)
    try:
        yield con.sql("select kind, name, subject, value from demo_truth").df()
    finally:
        con.close()


def planted(truth: pd.DataFrame, kind: str) -> pd.Series:
    t = truth[truth["kind"] == kind]
    key = "subject" if kind == "campaign_uplift" else "name"
    return t.set_index(key)["value"]


def test_subscriber_months_matches_the_planted_holdout_population(months, truth) -> None:  # type: ignore[no-untyped-def]
    validate(months, SubscriberMonths)
    assert list(months.columns) == columns(SubscriberMonths)
    last = months[months["month"] == months["month"].max()]
    model = planted(truth, "churn_model")
    assert len(last) == int(model["holdout_subscribers"])
    assert last["churned"].mean() == pytest.approx(model["holdout_churn_rate"], abs=1e-9)
    assert months["month"].nunique() == 11  # every month with a previous month of data
    assert not months.duplicated(["subscriber_id", "month"]).any()


def test_subscriber_months_filters(settings) -> None:  # type: ignore[no-untyped-def]
    df = catalog.load(
        "subscriber_months", settings=settings, start="2026-09-01", plan="annual", region="india"
    )
    assert set(df["plan"]) == {"annual"} and set(df["region"]) == {"india"}
    assert df["month"].min() == pd.Timestamp("2026-09-01", tz="UTC")


@pytest.fixture(scope="module")
def effects(months) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    frame = churn.driver_frame(months)
    train = frame[frame["month"] < frame["month"].max()]
    return churn.driver_effects(train).frame


def _estimates(effects: pd.DataFrame) -> pd.DataFrame:
    e = effects.set_index("term")
    e = e.rename(index={"plan=annual": "plan_annual", "plan=ad_supported": "plan_ad_supported"})
    return e


def test_logit_recovers_the_sign_of_every_planted_driver(effects, truth) -> None:  # type: ignore[no-untyped-def]
    beta = planted(truth, "churn_driver")
    est = _estimates(effects).loc[beta.index]
    assert (np.sign(est["coef"]) == np.sign(beta)).all()
    assert (est["p_value"] < 0.001).all()
    # log odds ratio ~ log hazard ratio for a monthly churn of ~5 %
    assert (np.abs(est["coef"] - beta) < 2.5 * est["se"]).all()


def test_logit_ranks_the_top_drivers_like_the_planted_betas(effects, truth) -> None:  # type: ignore[no-untyped-def]
    beta = planted(truth, "churn_driver")
    est = _estimates(effects).loc[beta.index, "coef"]
    planted_order = beta.abs().sort_values(ascending=False).index[:4].tolist()
    est_order = est.abs().sort_values(ascending=False).index[:4].tolist()
    assert est_order == planted_order  # plan_annual, payment_failed, inactive, complaint
    assert stats.spearmanr(beta.abs(), est.abs()).statistic > 0.85


@pytest.mark.parametrize("kind", ["logit", "gbm"])
def test_holdout_auc_is_close_to_the_planted_models(months, truth, kind) -> None:  # type: ignore[no-untyped-def]
    auc = planted(truth, "churn_model")["holdout_auc"]
    result = churn.evaluate_churn_model(months, kind=kind, n_threads=1)
    s = result.summary
    assert s["holdout_rows"] == int(planted(truth, "churn_model")["holdout_subscribers"])
    assert abs(s["roc_auc"] - auc) < 0.02
    assert 0 < s["brier"] < s["base_rate"]  # better than no information ...
    assert s["pr_auc"] > 1.8 * s["base_rate"]  # ... and ranks churners well above chance
    cal = result.frame
    assert cal["n"].sum() == s["holdout_rows"]
    # calibrated: predicted and observed churn agree overall and in the riskiest decile
    rate = (cal["observed_rate"] * cal["n"]).sum() / cal["n"].sum()
    assert (cal["mean_predicted"] * cal["n"]).sum() / cal["n"].sum() == pytest.approx(
        rate, rel=0.25
    )
    top = cal.iloc[-1]
    assert top["ci_low"] - 0.03 < top["mean_predicted"] < top["ci_high"] + 0.03
    assert result.chart().to_dict()["layer"]
    assert result.findings and "demo data" in result.findings[0].text()


def test_driver_model_auc_matches_the_planted_model(months, truth) -> None:  # type: ignore[no-untyped-def]
    frame = churn.driver_frame(months).drop(
        columns=["region", "device", "channel", "payment_method"]
    )
    result = churn.evaluate_churn_model(frame, kind="logit", reference={"plan": "ad_free"})
    auc = planted(truth, "churn_model")["holdout_auc"]
    assert abs(result.summary["roc_auc"] - auc) < 0.01
    ors = result.tables["odds_ratios"]
    assert ors.iloc[0]["term"] == "plan=annual"


def test_campaign_uplift_recovers_the_planted_uplift(settings, truth) -> None:  # type: ignore[no-untyped-def]
    result = churn.campaign_uplift(catalog.load("retention_campaigns", settings=settings))
    df = result.frame.set_index("campaign_id")
    true = planted(truth, "campaign_uplift").loc[df.index]
    covered = (df["uplift_ci_low"] <= true) & (true <= df["uplift_ci_high"])
    assert covered.sum() >= 4  # small scale: 6 campaigns of 250-1,900 subscribers
    assert not df.loc["CMP-005", "is_significant"]  # the planted no-effect campaign
    assert df.loc["CMP-002", "is_significant"]  # the strongest planted effect
    assert (df["min_detectable_uplift"] > 0).all()
    assert result.chart().to_dict()["layer"]


def test_driver_attribution_names_effects_per_segment(months) -> None:  # type: ignore[no-untyped-def]
    result = churn.driver_attribution(churn.driver_frame(months), "plan")
    df = result.frame
    assert set(df["segment"]) == {"ad_free", "ad_supported", "annual"}
    # annual subscribers are never exposed to the price rise: dropped, not an error
    annual = df[df["segment"] == "annual"]
    assert "price_increase" not in set(annual["driver"])
    assert "price_increase" in set(df[df["segment"] == "ad_free"]["driver"])
    assert (df["attributable_share"] < 1).all()
    assert result.findings and result.findings[0].impact_subscribers > 0
