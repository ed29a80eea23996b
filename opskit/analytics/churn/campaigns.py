"""Retention campaigns: uplift against the randomised control group, and power.

Uplift is the difference of retention proportions, treated minus control, with
Newcombe's hybrid-score interval and a two-sided score test
(``statsmodels.stats.proportion``). The power side uses the arcsine effect size
(``proportion_effectsize``) with ``NormalIndPower``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    test_proportions_2indep,
)

from opskit.analytics._result import Finding, Result
from opskit.analytics.churn._common import provenance_of, require_columns
from opskit.analytics.churn.charts import uplift_chart

__all__ = ["campaign_sample_size", "campaign_uplift", "minimum_detectable_uplift"]


def _counts(frame: pd.DataFrame) -> pd.DataFrame:
    """``campaign_id, treated, control, retained_treated, retained_control``."""
    if {"group", "retained"} <= set(frame.columns):
        require_columns(frame, ["campaign_id"], "campaign_uplift")
        bad = set(frame["group"].unique()) - {"treatment", "control"}
        if bad:
            raise ValueError(f"group must be 'treatment' or 'control', got {sorted(map(str, bad))}")
        g = frame.groupby(["campaign_id", "group"])["retained"].agg(["size", "sum"]).unstack()
        g = g.reindex(
            columns=pd.MultiIndex.from_product([["size", "sum"], ["treatment", "control"]])
        )
        g = g.fillna(0)
        return pd.DataFrame(
            {
                "campaign_id": g.index,
                "treated": g[("size", "treatment")].to_numpy(int),
                "control": g[("size", "control")].to_numpy(int),
                "retained_treated": g[("sum", "treatment")].to_numpy(int),
                "retained_control": g[("sum", "control")].to_numpy(int),
            }
        )
    need = ["campaign_id", "treated", "control", "retention_treated", "retention_control"]
    require_columns(frame, need, "campaign_uplift")
    return pd.DataFrame(
        {
            "campaign_id": frame["campaign_id"].to_numpy(),
            "treated": frame["treated"].to_numpy(int),
            "control": frame["control"].to_numpy(int),
            "retained_treated": np.rint(frame["retention_treated"] * frame["treated"]).astype(int),
            "retained_control": np.rint(frame["retention_control"] * frame["control"]).astype(int),
        }
    )


def minimum_detectable_uplift(
    baseline: float, treated: int, control: int, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest retention uplift detectable with these group sizes (two-sided test)."""
    if treated <= 0 or control <= 0:
        return float("nan")
    h = NormalIndPower().solve_power(
        nobs1=treated, ratio=control / treated, alpha=alpha, power=power, effect_size=None
    )
    base = 2 * np.arcsin(np.sqrt(np.clip(baseline, 0, 1)))
    return float(min(1.0, np.sin(min(np.pi, base + h) / 2) ** 2) - baseline)


def campaign_uplift(frame: pd.DataFrame, *, confidence: float = 0.95, power: float = 0.8) -> Result:
    """Measured uplift of retention campaigns against their randomised control groups.

    Parameters
    ----------
    frame
        Either the ``retention_campaigns`` dataset (``campaign_id, treated, control,
        retention_treated, retention_control``) or one row per subscriber with
        ``campaign_id, group`` (``treatment``/``control``) and ``retained`` (bool).
    confidence
        Confidence level of the intervals; significance is ``p < 1 - confidence``.
    power
        Power used for the minimum detectable uplift.

    Returns
    -------
    Result
        ``frame``: per campaign the group sizes and retention, ``uplift`` with
        ``uplift_ci_low``/``uplift_ci_high`` (Newcombe), ``z``, ``p_value``,
        ``is_significant``, ``relative_uplift``, ``subscribers_saved`` and the
        ``min_detectable_uplift`` of the design; chart: uplift with intervals.
    """
    counts = _counts(frame)
    if (counts["treated"] <= 0).any() or (counts["control"] <= 0).any():
        empty = counts.loc[(counts["treated"] <= 0) | (counts["control"] <= 0), "campaign_id"]
        raise ValueError(f"campaign(s) without a treated or a control group: {list(empty)}")
    alpha = 1 - confidence
    rows: list[dict[str, Any]] = []
    for r in counts.itertuples():
        kt, nt, kc, nc = r.retained_treated, r.treated, r.retained_control, r.control
        pt, pc = kt / nt, kc / nc
        lo, hi = confint_proportions_2indep(kt, nt, kc, nc, method="newcomb", alpha=alpha)
        test = test_proportions_2indep(kt, nt, kc, nc, method="score", return_results=True)
        p_value = float(test.pvalue) if np.isfinite(test.pvalue) else 1.0
        rows.append(
            {
                "campaign_id": r.campaign_id, "treated": nt, "control": nc,
                "retention_treated": pt, "retention_control": pc, "uplift": pt - pc,
                "uplift_ci_low": float(lo), "uplift_ci_high": float(hi),
                "z": float(test.statistic) if np.isfinite(test.statistic) else 0.0,
                "p_value": p_value, "is_significant": p_value < alpha,
                "relative_uplift": (pt - pc) / pc if pc > 0 else np.nan,
                "subscribers_saved": (pt - pc) * nt,
                "min_detectable_uplift": minimum_detectable_uplift(pc, nt, nc, alpha=alpha, power=power),
            }
        )  # fmt: skip
    out = pd.DataFrame(rows)
    if "name" in frame.columns and "group" not in frame.columns:
        out.insert(1, "name", frame["name"].to_numpy())
    prov = provenance_of(frame)
    findings = []
    for r in out.itertuples():
        where = f"{r.campaign_id}" + (f" {r.name}" if "name" in out.columns else "")
        works = r.is_significant and r.uplift > 0
        findings.append(
            Finding(
                title="Campaign retains more subscribers" if works else "No proven uplift",
                where=where,
                source="churn_campaigns",
                action="scale the campaign to its whole segment"
                if works
                else "redesign or stop; a larger test is needed to prove a small effect",
                provenance=prov,
                impact_subscribers=float(r.subscribers_saved),
                impact_period="for the campaign",
                evidence={
                    "uplift": (float(r.uplift), "pp"),
                    "lower bound": (float(r.uplift_ci_low), "pp"),
                    "upper bound": (float(r.uplift_ci_high), "pp"),
                    "p-value": (float(r.p_value), "p_value"),
                },
                confidence="high" if r.p_value < 0.01 else "medium" if works else "low",
            )
        )
    findings.sort(key=lambda f: -(f.impact_subscribers or 0.0))
    return Result(
        name="campaign_uplift",
        frame=out,
        provenance=prov,
        findings=findings,
        summary={
            "campaigns": len(out),
            "significant": int(out["is_significant"].sum()),
            "confidence": confidence,
        },
        _chart=uplift_chart,
    )


def campaign_sample_size(
    baseline_retention: float,
    uplift: float | list[float],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    treated_share: float = 0.8,
) -> pd.DataFrame:
    """Subscribers a retention test needs to detect ``uplift`` (two-sided z-test).

    Parameters
    ----------
    baseline_retention
        Expected retention of the control group over the outcome window.
    uplift
        Uplift(s) to detect (absolute, e.g. 0.02 = two points).
    treated_share
        Share of the segment that gets the treatment (the rest is control).

    Returns
    -------
    pandas.DataFrame
        ``uplift, effect_size, treated, control, total`` (rounded up).

    Raises
    ------
    ValueError
        Retention or uplift outside (0, 1), zero uplift, or a bad share/alpha/power.
    """
    if not 0 < baseline_retention < 1:
        raise ValueError(f"baseline_retention must be in (0, 1), got {baseline_retention}")
    if not 0 < treated_share < 1 or not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("treated_share, alpha and power must be in (0, 1)")
    rows = []
    for u in np.atleast_1d(np.asarray(uplift, dtype="float64")):
        target = baseline_retention + u
        if u == 0 or not 0 < target < 1:
            raise ValueError(f"uplift {u} must be non-zero and keep retention inside (0, 1)")
        h = abs(float(proportion_effectsize(target, baseline_retention)))
        ratio = (1 - treated_share) / treated_share
        n_t = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=ratio)
        n_t = int(np.ceil(n_t))
        n_c = int(np.ceil(n_t * ratio))
        rows.append({"uplift": float(u), "effect_size": h, "treated": n_t, "control": n_c,
                     "total": n_t + n_c})  # fmt: skip
    return pd.DataFrame(rows)
