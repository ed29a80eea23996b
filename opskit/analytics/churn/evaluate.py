"""Evaluate a churn model on a time-based holdout: the last period is never trained on."""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from opskit.analytics._result import Finding, Result
from opskit.analytics.churn._common import provenance_of, require_columns, wilson
from opskit.analytics.churn.charts import calibration_chart
from opskit.analytics.churn.model import ChurnModel, ModelKind, churn_model

__all__ = [
    "ChurnModelResult",
    "calibration_table",
    "classification_metrics",
    "evaluate_churn_model",
]


@dataclass
class ChurnModelResult(Result):
    """A :class:`Result` that also carries the fitted model."""

    model: ChurnModel | None = None


def classification_metrics(y: Any, risk: Any) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision), Brier score, base rate, rows and events.

    Raises
    ------
    ValueError
        If the lengths differ or ``y`` holds one class only.
    """
    yv = np.asarray(y).astype(bool)
    p = np.asarray(risk, dtype="float64")
    if len(yv) != len(p):
        raise ValueError(f"y has {len(yv)} values but risk has {len(p)}")
    if yv.all() or not yv.any():
        raise ValueError("metrics need both churners and non-churners in y")
    return {
        "roc_auc": float(roc_auc_score(yv, p)),
        "pr_auc": float(average_precision_score(yv, p)),
        "brier": float(brier_score_loss(yv, p)),
        "base_rate": float(yv.mean()),
        "rows": float(len(yv)),
        "events": float(yv.sum()),
    }


def calibration_table(y: Any, risk: Any, bins: int = 10, confidence: float = 0.95) -> pd.DataFrame:
    """Observed churn per quantile bin of predicted risk.

    Returns
    -------
    pandas.DataFrame
        ``bin`` (1 = lowest risk), ``n``, ``mean_predicted``, ``observed_rate``,
        ``ci_low``/``ci_high`` (Wilson), ``churners`` and ``lift`` (observed rate /
        overall rate).
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    yv = np.asarray(y).astype(bool)
    p = np.asarray(risk, dtype="float64")
    ranks = pd.Series(p).rank(method="first").to_numpy()
    b = np.minimum((ranks - 1) * bins // len(p), bins - 1).astype(int) + 1
    df = pd.DataFrame({"bin": b, "p": p, "y": yv})
    g = df.groupby("bin").agg(n=("y", "size"), mean_predicted=("p", "mean"), churners=("y", "sum"))
    g["observed_rate"] = g["churners"] / g["n"]
    g["ci_low"], g["ci_high"] = wilson(g["churners"].to_numpy(), g["n"].to_numpy(), confidence)
    g["lift"] = g["observed_rate"] / yv.mean() if yv.any() else np.nan
    g = g.reset_index()
    return g[
        ["bin", "n", "mean_predicted", "observed_rate", "ci_low", "ci_high", "churners", "lift"]
    ]


def _features(
    frame: pd.DataFrame, target: str, time_col: str, features: list[str] | None
) -> list[str]:
    if features is not None:
        require_columns(frame, features, "evaluate_churn_model")
        return list(features)
    skip = {target, time_col, "provenance"}
    return [c for c in frame.columns if c not in skip and not str(c).endswith("_id")]


def evaluate_churn_model(
    frame: pd.DataFrame,
    *,
    kind: ModelKind = "logit",
    target: str = "churned",
    time: str = "month",
    features: list[str] | None = None,
    holdout: Any = None,
    bins: int = 10,
    **params: Any,
) -> ChurnModelResult:
    """Fit a churn model on earlier periods and score the last one (time-based holdout).

    Parameters
    ----------
    frame
        One row per subscriber and period (e.g. ``opskit.load("subscriber_months")``).
    kind
        ``"logit"`` or ``"gbm"`` (see :func:`~opskit.analytics.churn.churn_model`).
    target, time
        Outcome column and period column.
    features
        Feature columns (default: all but target, time, ``provenance`` and ``*_id``).
    holdout
        Period to hold out (default: the last one); training uses earlier periods.
    bins
        Quantile bins of the calibration table.
    **params
        Passed to :class:`~opskit.analytics.churn.ChurnModel`.

    Returns
    -------
    ChurnModelResult
        ``frame``: calibration table of the holdout; ``summary``: ROC AUC, PR AUC,
        Brier score, base rate, rows, fit seconds; ``tables``: ``metrics``,
        ``odds_ratios`` (logit); ``model``: the fitted estimator; chart: calibration curve.

    Raises
    ------
    ValueError
        Missing columns, an empty frame, fewer than two periods, a holdout period
        without both classes, or any error of :meth:`ChurnModel.fit`.
    """
    require_columns(frame, [target, time], "evaluate_churn_model")
    cols = _features(frame, target, time, features)
    periods = np.sort(frame[time].dropna().unique())
    if len(periods) < 2:
        raise ValueError(f"a time-based holdout needs at least two {time!r} periods")
    cut = periods[-1] if holdout is None else holdout
    test = (frame[time] == cut).to_numpy()
    train = (frame[time] < cut).to_numpy()
    if not test.any() or not train.any():
        raise ValueError(f"holdout {cut!r} leaves no training or no holdout rows")
    model = churn_model(kind, **params)
    t0 = perf_counter()
    model.fit(frame.loc[train, cols], frame.loc[train, target].to_numpy())
    fit_s = perf_counter() - t0
    y_test = frame.loc[test, target].to_numpy() == model.classes_[1]
    risk = model.predict_risk(frame.loc[test, cols])
    metrics = classification_metrics(y_test, risk)
    metrics["roc_auc_uncalibrated"] = float(
        roc_auc_score(y_test, model.predict_uncalibrated(frame.loc[test, cols]))
    )
    cal = calibration_table(y_test, risk, bins)
    prov = provenance_of(frame)
    tables = {"metrics": pd.DataFrame([metrics])}
    if kind == "logit":
        tables["odds_ratios"] = model.odds_ratios()
    top = cal.iloc[-1]
    share = float(top["churners"] / max(cal["churners"].sum(), 1))
    finding = Finding(
        title=f"The riskiest {100 // bins}% of subscribers hold {share:.0%} of next month's churners",
        where=f"holdout {pd.Timestamp(cut):%Y-%m}" if _is_time(cut) else f"holdout {cut}",
        source="churn_model",
        action="target retention offers at the top risk decile first",
        provenance=prov,
        impact_subscribers=float(top["churners"]),
        impact_period="per month",
        evidence={
            "ROC AUC": (metrics["roc_auc"], "number"),
            "lift of the top decile": (float(top["lift"]), "ratio"),
            "share of churners": (share, "fraction"),
        },
        confidence="high" if metrics["events"] >= 200 else "medium",
    )
    summary: dict[str, Any] = {
        "model": kind,
        "holdout": str(cut),
        **{k: metrics[k] for k in ("roc_auc", "pr_auc", "brier", "base_rate")},
        "train_rows": int(train.sum()),
        "holdout_rows": int(test.sum()),
        "fit_seconds": fit_s,
        "calibration": model.calibration_method_,
    }
    return ChurnModelResult(
        name=f"churn_model[{kind}]",
        frame=cal,
        provenance=prov,
        findings=[finding],
        summary=summary,
        tables=tables,
        _chart=calibration_chart,
        model=model,
    )


def _is_time(value: Any) -> bool:
    return isinstance(value, pd.Timestamp | np.datetime64)
