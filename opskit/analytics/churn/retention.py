"""Retention curves (Kaplan-Meier), churn rate over time and at-risk segments.

The Kaplan-Meier estimator here handles *delayed entry* (left truncation): a
subscriber who joined before the data starts enters the risk set at the tenure
they had when first observed, so long-tenured subscribers do not inflate early
retention. Intervals use Greenwood's variance on the log(-log) scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from opskit.analytics._result import Finding, Result
from opskit.analytics.churn._common import provenance_of, require_columns, wilson
from opskit.analytics.churn.charts import rate_chart, retention_chart

__all__ = [
    "MONTH_DAYS",
    "at_risk_segments",
    "churn_rate_over_time",
    "kaplan_meier",
    "retention_curves",
    "subscriber_lifetimes",
]

MONTH_DAYS = 30.4375


def kaplan_meier(
    duration: Any, event: Any, entry: Any = None, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Kaplan-Meier survival with delayed entry and log(-log) Greenwood intervals.

    Parameters
    ----------
    duration
        Time of the event or of censoring, per subject.
    event
        True where the subject had the event at ``duration``.
    entry
        Time each subject entered observation (default 0); must be < ``duration``.

    Returns
    -------
    pandas.DataFrame
        ``time, at_risk, events, survival, ci_low, ci_high`` at each event time.

    Raises
    ------
    ValueError
        Empty or mismatched input, NaN durations, or an entry not before its exit.
    """
    t = np.asarray(duration, dtype="float64")
    d = np.asarray(event).astype(bool)
    e = np.zeros_like(t) if entry is None else np.asarray(entry, dtype="float64")
    if t.size == 0:
        raise ValueError("kaplan_meier: no subjects")
    if not (len(t) == len(d) == len(e)):
        raise ValueError("kaplan_meier: duration, event and entry must have equal lengths")
    if np.isnan(t).any() or np.isnan(e).any():
        raise ValueError("kaplan_meier: durations and entries must not be NaN")
    if (e >= t).any():
        raise ValueError("kaplan_meier: every entry must be before its exit")
    times = np.unique(t[d])
    if times.size == 0:
        return pd.DataFrame(
            {"time": [0.0], "at_risk": [len(t)], "events": [0], "survival": [1.0],
             "ci_low": [1.0], "ci_high": [1.0]}
        )  # fmt: skip
    events = np.bincount(np.searchsorted(times, t[d]), minlength=times.size)
    # at risk at time s: entered before s and not yet exited (exit >= s)
    at_risk = np.searchsorted(np.sort(e), times, side="left") - np.searchsorted(
        np.sort(t), times, side="left"
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - events / at_risk)
        green = np.cumsum(events / (at_risk * (at_risk - events)))
        z = stats.norm.ppf(0.5 + confidence / 2)
        log_s = np.log(surv)
        se = np.sqrt(green) / np.abs(log_s)
        lo = np.exp(-np.exp(np.log(-log_s) + z * se))
        hi = np.exp(-np.exp(np.log(-log_s) - z * se))
    lo = np.where(surv >= 1.0, 1.0, np.where(surv <= 0, 0.0, lo))
    hi = np.where(surv >= 1.0, 1.0, np.where(surv <= 0, 0.0, hi))
    return pd.DataFrame(
        {"time": times, "at_risk": at_risk, "events": events, "survival": surv,
         "ci_low": np.nan_to_num(lo), "ci_high": np.nan_to_num(hi, nan=1.0)}
    )  # fmt: skip


def subscriber_lifetimes(
    frame: pd.DataFrame,
    *,
    id_col: str = "subscriber_id",
    tenure: str = "tenure_days",
    event: str = "churned",
) -> pd.DataFrame:
    """One row per subscriber from a person-month frame (``subscriber_months``).

    ``entry_months`` is the tenure at the first observed month start,
    ``exit_months`` the tenure at the end of the last observed month, or the middle
    of the churn month for churners (the cancellation time is known to the month),
    ``churned`` the outcome; the other
    columns keep each subscriber's first observed value.
    """
    require_columns(frame, [id_col, tenure, event], "subscriber_lifetimes")
    g = frame.groupby(id_col, sort=True)
    first = g.first()
    out = first.drop(columns=[tenure, event])
    out["entry_months"] = g[tenure].min() / MONTH_DAYS
    out["churned"] = g[event].any()
    out["exit_months"] = g[tenure].max() / MONTH_DAYS + np.where(out["churned"], 0.5, 1.0)
    return out.reset_index()


def retention_curves(
    frame: pd.DataFrame,
    by: str | None = None,
    *,
    horizon_months: int = 24,
    confidence: float = 0.95,
    min_subscribers: int = 20,
) -> Result:
    """Kaplan-Meier retention by months of tenure, overall or per group.

    Parameters
    ----------
    frame
        A ``subscriber_months`` frame (converted with :func:`subscriber_lifetimes`)
        or a lifetimes frame with ``entry_months, exit_months, churned``.
    by
        Group column (``plan``, ``region``, ``device``, ``channel`` ...).
    horizon_months
        Last tenure month reported.

    Returns
    -------
    Result
        ``frame``: ``group, tenure_months`` (0..horizon), ``at_risk``,
        ``retention``, ``ci_low``, ``ci_high``; chart: curves with bands;
        findings: the group with the lowest 12-month retention.
    """
    life = frame if "exit_months" in frame.columns else subscriber_lifetimes(frame)
    require_columns(life, ["entry_months", "exit_months", "churned"], "retention_curves")
    if by is not None:
        require_columns(life, [by], "retention_curves")
    groups = [("all", life)] if by is None else list(life.groupby(by, sort=True, observed=True))
    grid = np.arange(0, horizon_months + 1, dtype="float64")
    parts = []
    for name, g in groups:
        if len(g) < min_subscribers:
            continue
        km = kaplan_meier(g["exit_months"], g["churned"], g["entry_months"], confidence=confidence)
        idx = np.searchsorted(km["time"].to_numpy(), grid, side="right") - 1
        at = np.maximum(idx, 0)
        curve = {
            col: np.where(idx >= 0, km[col].to_numpy()[at], 1.0)
            for col in ("survival", "ci_low", "ci_high")
        }
        risk = np.searchsorted(np.sort(g["entry_months"]), grid, side="left") - np.searchsorted(
            np.sort(g["exit_months"]), grid, side="left"
        )
        parts.append(
            pd.DataFrame(
                {"group": str(name), "tenure_months": grid, "at_risk": risk,
                 "retention": curve["survival"], "ci_low": curve["ci_low"],
                 "ci_high": curve["ci_high"]}
            )
        )  # fmt: skip
    if not parts:
        raise ValueError(f"no group has at least {min_subscribers} subscribers")
    out = pd.concat(parts, ignore_index=True)
    prov = provenance_of(frame)
    at12 = out[out["tenure_months"] == min(12, horizon_months)].sort_values("retention")
    findings = []
    if by is not None and len(at12) > 1:
        worst, best = at12.iloc[0], at12.iloc[-1]
        findings.append(
            Finding(
                title=f"{by} {worst['group']} retains least after {int(worst['tenure_months'])} months",
                where=f"by {by}",
                source="churn_retention",
                action=f"review onboarding and offers for {by} {worst['group']}",
                provenance=prov,
                evidence={
                    "retention": (float(worst["retention"]), "fraction"),
                    "best group's retention": (float(best["retention"]), "fraction"),
                },
                confidence="high" if worst["ci_high"] < best["ci_low"] else "low",
            )
        )
    return Result(
        name="retention_curves",
        frame=out,
        provenance=prov,
        findings=findings,
        summary={
            "by": by or "all",
            "subscribers": len(life),
            "churned": int(life["churned"].sum()),
        },
        _chart=retention_chart,
    )


def churn_rate_over_time(
    frame: pd.DataFrame,
    by: str | None = None,
    *,
    time: str = "month",
    target: str = "churned",
    confidence: float = 0.95,
) -> Result:
    """Monthly churn rate (churned / active at the month start) with Wilson intervals."""
    require_columns(frame, [time, target] + ([by] if by else []), "churn_rate_over_time")
    keys = [time] + ([by] if by else [])
    g = frame.groupby(keys, sort=True, observed=True)[target].agg(["size", "sum"]).reset_index()
    g = g.rename(columns={"size": "subscribers", "sum": "churned", time: "month"})
    g["group"] = g[by].astype(str) if by else "all"
    g["churn_rate"] = g["churned"] / g["subscribers"]
    g["ci_low"], g["ci_high"] = wilson(g["churned"], g["subscribers"], confidence)
    out = g[["month", "group", "subscribers", "churned", "churn_rate", "ci_low", "ci_high"]]
    overall = float(frame[target].mean())
    return Result(
        name="churn_rate",
        frame=out,
        provenance=provenance_of(frame),
        summary={"by": by or "all", "overall_rate": overall, "months": int(out["month"].nunique())},
        _chart=rate_chart,
    )


def at_risk_segments(
    frame: pd.DataFrame,
    by: Sequence[str] = ("plan", "region"),
    *,
    time: str = "month",
    target: str = "churned",
    last_months: int = 3,
    min_subscribers: int = 50,
    confidence: float = 0.95,
) -> Result:
    """Segments whose churn rate is significantly above everyone's.

    Over the last ``last_months`` periods, each segment's monthly churn rate gets
    a Wilson interval; it is *at risk* when the interval's lower bound exceeds the
    overall rate and it has at least ``min_subscribers`` subscribers in the last
    period. ``excess_churners`` = last-period subscribers x (rate - overall rate),
    the churners a month above the average.
    """
    keys = list(by)
    require_columns(frame, [time, target, *keys], "at_risk_segments")
    periods = np.sort(frame[time].unique())[-last_months:]
    recent = frame[frame[time].isin(periods)]
    overall = float(recent[target].mean())
    g = recent.groupby(keys, sort=True, observed=True)[target].agg(["size", "sum"])
    last = recent[recent[time] == periods[-1]].groupby(keys, observed=True).size()
    g = g.join(last.rename("subscribers_now"), how="left").fillna({"subscribers_now": 0})
    g = g.reset_index().rename(columns={"size": "subscriber_months", "sum": "churned"})
    g["churn_rate"] = g["churned"] / g["subscriber_months"]
    g["ci_low"], g["ci_high"] = wilson(g["churned"], g["subscriber_months"], confidence)
    g["relative_risk"] = g["churn_rate"] / overall if overall > 0 else np.nan
    g["excess_churners"] = g["subscribers_now"] * (g["churn_rate"] - overall)
    g["is_at_risk"] = (g["ci_low"] > overall) & (g["subscribers_now"] >= min_subscribers)
    g["segment"] = g[keys].astype(str).agg(" | ".join, axis=1)
    g = g.sort_values(
        ["is_at_risk", "excess_churners"], ascending=[False, False], ignore_index=True
    )
    prov = provenance_of(frame)
    findings = [
        Finding(
            title=f"Churn {r.relative_risk:.2f}x the average",
            where=r.segment,
            source="churn_segments",
            action="prioritise this segment for retention campaigns and driver review",
            provenance=prov,
            impact_subscribers=float(r.excess_churners),
            impact_period="per month",
            evidence={
                "monthly churn": (float(r.churn_rate), "fraction"),
                "overall churn": (overall, "fraction"),
                "lower bound": (float(r.ci_low), "fraction"),
            },
            confidence="high" if r.subscriber_months >= 1000 else "medium",
        )
        for r in g[g["is_at_risk"]].itertuples()
    ]
    return Result(
        name="at_risk_segments",
        frame=g,
        provenance=prov,
        findings=findings,
        summary={
            "overall_rate": overall,
            "at_risk": int(g["is_at_risk"].sum()),
            "months": [str(p) for p in periods],
        },
    )
