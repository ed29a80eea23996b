"""churn_model takes any raw tabular frame, encodes it itself and fails clearly on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from opskit.analytics.churn import ChurnModel, churn_model, parse_numbers
from opskit.errors import NotFittedError


def raw_frame(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Mixed-type churn data whose churn depends on fee, plan, a flag and a %-coded rate."""
    rng = np.random.default_rng(seed)
    fee = rng.gamma(2.0, 600.0, n)
    plan = rng.choice(["basic", "premium", "family"], n)
    flag = rng.random(n) < 0.3
    rate = rng.uniform(0, 40, n)
    logit = -2.0 + 0.0008 * fee + 1.2 * flag + 0.04 * rate + np.where(plan == "basic", 0.7, 0.0)
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    X = pd.DataFrame(
        {
            "fee": [f"{v:,.0f}" for v in fee],  # text-coded numbers with thousands separators
            "plan": plan,
            "autopay": np.where(flag, "yes", "no"),  # yes/no booleans
            "error_rate": [f"{v:.1f}%" for v in rate],  # percentages
            "age": rng.normal(40, 10, n),
            "segment": pd.Categorical(rng.choice(list("abcd"), n)),
            "is_promo": rng.random(n) < 0.5,  # real booleans
        }
    )
    X.loc[rng.random(n) < 0.1, "age"] = np.nan
    X.loc[rng.random(n) < 0.05, "plan"] = None
    X.loc[rng.random(n) < 0.05, "fee"] = "n/a"
    return X, y


def test_parse_numbers_reads_text_coded_numbers() -> None:
    s = pd.Series(["1,234", " 12% ", "$5.50", "(3)", "n/a", None, "abc"])
    out = parse_numbers(s)
    assert out.iloc[:4].tolist() == [1234.0, 0.12, 5.5, -3.0]
    assert out.iloc[4:].isna().all()


@pytest.mark.parametrize("kind", ["logit", "gbm"])
def test_model_learns_from_a_raw_mixed_frame(kind: str) -> None:
    X, y = raw_frame()
    m = churn_model(kind, n_threads=1).fit(X.iloc[:1000], y[:1000])
    proba = m.predict_proba(X.iloc[1000:])
    assert proba.shape == (500, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(y[1000:], proba[:, 1]) > 0.65
    kinds = m.pipeline_.named_steps["prepare"].kinds_
    assert kinds == {
        "fee": "text_number", "plan": "categorical", "autopay": "boolean",
        "error_rate": "text_number", "age": "numeric", "segment": "categorical",
        "is_promo": "boolean",
    }  # fmt: skip
    assert set(m.predict(X.iloc[:5])) <= {False, True}


def test_logit_odds_ratios_are_per_raw_unit_with_intervals() -> None:
    X, y = raw_frame(n=6000, seed=1)
    m = churn_model("logit", reference={"plan": "premium"}, calibration="none").fit(X, y)
    ors = m.odds_ratios().set_index("term")
    # planted: +1.2 for autopay=yes, +0.04 per percentage point = +4 per unit fraction
    assert ors.loc["autopay", "ci_low"] < np.exp(1.2) < ors.loc["autopay", "ci_high"]
    assert ors.loc["error_rate", "ci_low"] < np.exp(4.0) < ors.loc["error_rate", "ci_high"]
    assert ors.loc["plan=basic", "reference"] == "premium"
    assert ors.loc["plan=basic", "odds_ratio"] > 1.5
    assert "age (missing)" in ors.index  # missing indicator of an imputed column
    assert (ors["ci_low"] <= ors["odds_ratio"]).all() and (
        ors["odds_ratio"] <= ors["ci_high"]
    ).all()


def test_model_is_a_scikit_learn_estimator() -> None:
    m = churn_model("gbm", C=0.5, learning_rate=0.05)
    params = m.get_params()
    assert params["kind"] == "gbm" and params["learning_rate"] == 0.05
    twin = clone(m)
    assert isinstance(twin, ChurnModel) and twin.get_params() == params
    X, y = raw_frame(400)
    m.set_params(max_iter=20, n_threads=1).fit(X, y)
    assert m.n_features_in_ == X.shape[1]


def test_target_can_be_a_column_name_and_unseen_categories_are_scored() -> None:
    X, y = raw_frame(800)
    m = churn_model("logit").fit(X.assign(churned=y), "churned")
    new = X.iloc[:3].copy()
    new["plan"] = ["enterprise", None, "basic"]  # unseen level, missing, known
    assert m.predict_proba(new).shape == (3, 2)


def test_numpy_arrays_are_accepted() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + rng.normal(size=300) > 0
    p = churn_model("logit").fit(X, y).predict_proba(X)
    assert p.shape == (300, 2)


X_OK, Y_OK = raw_frame(200)
BAD_INPUTS = [
    ("empty frame", X_OK.iloc[:0], Y_OK[:0], ValueError, "empty"),
    ("no target", X_OK, None, ValueError, "missing target"),
    ("absent target column", X_OK, "churned", ValueError, "no column 'churned'"),
    ("NaN in target", X_OK, np.where(Y_OK, 1.0, np.nan), ValueError, "missing value"),
    ("single class", X_OK, np.zeros(200, bool), ValueError, "two classes"),
    ("length mismatch", X_OK, Y_OK[:10], ValueError, "rows but y has"),
    ("constant feature", X_OK.assign(k=1.0), Y_OK, ValueError, "constant feature"),
    ("all-missing feature", X_OK.assign(k=np.nan), Y_OK, ValueError, "constant feature"),
    ("datetime column", X_OK.assign(t=pd.Timestamp("2026-01-01")), Y_OK, TypeError, "datetime"),
    ("list cells", X_OK.assign(t=[[1]] * 200), Y_OK, TypeError, "containers"),
    ("not a frame", "abc", Y_OK, TypeError, "DataFrame"),
]


@pytest.mark.parametrize(
    ("X", "y", "error", "message"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_raises_a_clear_error(X, y, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        churn_model("logit").fit(X, y)


def test_constant_features_can_be_dropped() -> None:
    m = churn_model("logit", constant="drop").fit(X_OK.assign(k=1.0), Y_OK)
    assert "k" not in m.pipeline_.named_steps["prepare"].kinds_


def test_scoring_before_fit_or_without_columns_fails() -> None:
    with pytest.raises(NotFittedError):
        churn_model().predict_proba(X_OK)
    m = churn_model().fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match="lacks column"):
        m.predict_proba(X_OK.drop(columns=["fee"]))
    with pytest.raises(ValueError, match="logit"):
        churn_model("gbm", max_iter=5, n_threads=1).fit(X_OK, Y_OK).odds_ratios()
    with pytest.raises(ValueError, match="kind"):
        churn_model("forest").fit(X_OK, Y_OK)  # type: ignore[arg-type]
