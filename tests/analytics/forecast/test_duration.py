"""Issue duration: censoring-aware log-normal AFT, interval calibration on demo and Jira."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opskit.analytics.duration import (
    IssueDurationModel,
    durations,
    interval_calibration,
    issue_duration,
)
from opskit.catalog import load
from opskit.errors import NotFittedError
from tests.conftest import SHARED_DATA

JIRA = SHARED_DATA / "jira" / "apache_jira_bugs.csv"


def synthetic(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sev = rng.choice(["high", "low"], n)
    t = np.exp(
        np.where(sev == "high", 0.5, 2.0) + np.where(sev == "high", 0.4, 1.0) * rng.normal(size=n)
    )
    censor = rng.uniform(0, 40, n)
    return pd.DataFrame({"severity": sev}), np.minimum(t, censor), t <= censor


def test_censored_fit_recovers_medians_and_calibrates():
    X, days, observed = synthetic()
    model = IssueDurationModel(["severity"]).fit(X, days, observed)
    pred = model.predict(pd.DataFrame({"severity": ["high", "low"]}))
    assert pred["median_days"].to_numpy() == pytest.approx(np.exp([0.5, 2.0]), rel=0.1)
    assert (pred["lower_90"] < pred["lower_50"]).all() and (
        pred["upper_50"] < pred["upper_90"]
    ).all()
    Xt, dt, ot = synthetic(seed=1)
    calib = interval_calibration(model, Xt, dt, ot).set_index("level")
    assert calib.loc[0.5, "coverage"] == pytest.approx(0.5, abs=0.05)
    assert calib.loc[0.9, "coverage"] == pytest.approx(0.9, abs=0.04)


def test_open_issue_prediction_is_conditional_on_age():
    X, days, observed = synthetic()
    model = IssueDurationModel(["severity"]).fit(X, days, observed)
    x = pd.DataFrame({"severity": ["high"]})
    old = model.predict(x, age_days=np.array([10.0]))
    assert old["lower_90"].iloc[0] >= 10.0
    assert old["median_days"].iloc[0] > model.predict(x)["median_days"].iloc[0]


@pytest.mark.parametrize(
    ("X", "days", "observed", "match"),
    [
        (pd.DataFrame({"severity": []}), [], [], "non-empty"),
        (pd.DataFrame({"severity": ["a"]}), [0.0], [True], "> 0"),
        (pd.DataFrame({"severity": ["a"]}), [np.nan], [True], "finite"),
        (pd.DataFrame({"severity": ["a", "b"]}), [1.0, 2.0], [False, False], "resolved"),
        (pd.DataFrame({"other": ["a"]}), [1.0], [True], "lacks"),
    ],
)
def test_bad_input_raises(X, days, observed, match):
    with pytest.raises(ValueError, match=match):
        IssueDurationModel(["severity"]).fit(X, np.array(days), np.array(observed, dtype=bool))


def test_predict_before_fit_and_bad_frames():
    with pytest.raises(NotFittedError):
        IssueDurationModel(["severity"]).predict(pd.DataFrame({"severity": ["a"]}))
    frame = pd.DataFrame(
        {
            "created": pd.to_datetime(["2026-01-02"], utc=True),
            "resolved": pd.to_datetime(["2026-01-01"], utc=True),
        }
    )
    with pytest.raises(ValueError, match="before they were created"):
        durations(frame)
    with pytest.raises(ValueError, match="at least 20"):
        issue_duration(frame)


def test_demo_issue_intervals_are_sanely_calibrated(settings):
    issues = load("production_issues", settings=settings)
    res = issue_duration(issues, min_count=5)
    calib = res.tables["calibration"].set_index("level")
    assert 0.3 <= calib.loc[0.5, "coverage"] <= 0.8
    assert 0.75 <= calib.loc[0.9, "coverage"] <= 1.0
    assert len(res.frame) == int(issues["resolved"].isna().sum())
    assert (res.frame["lower_90"] >= res.frame["age_days"] - 1e-9).all()
    assert res.provenance.kind == "demo" and "[demo data]" in res.findings[0].text()
    res.chart().to_dict()


@pytest.mark.skipif(not JIRA.exists(), reason="shared Apache Jira data not available")
def test_jira_resolved_issue_calibration():
    cols = ["key", "project", "priority", "components", "created", "resolved"]
    jira = pd.read_csv(JIRA, usecols=cols)
    jira = jira[jira["project"].isin(["ZOOKEEPER", "STORM", "YARN"])].copy()
    jira["component"] = jira["project"] + ":" + jira["components"].str.split(";").str[0].fillna("-")
    for col in ("created", "resolved"):
        jira[col] = pd.to_datetime(jira[col], utc=True, format="ISO8601")
    res = issue_duration(
        jira,
        features=("priority", "project", "component"),
        min_count=50,
        as_of=pd.Timestamp("2019-01-12", tz="UTC"),
    )
    calib = res.tables["calibration"].set_index("level")
    assert 0.4 <= calib.loc[0.5, "coverage_resolved"] <= 0.75
    assert 0.8 <= calib.loc[0.9, "coverage_resolved"] <= 1.0
