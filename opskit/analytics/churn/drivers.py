"""Churn drivers: odds ratios of named drivers, and attribution per segment.

:func:`driver_frame` turns ``subscriber_months`` into the named drivers (the
behaviour of the previous month, as flags plus mean rebuffering):

==================  ======================================================
driver              from ``subscriber_months``
==================  ======================================================
rebuffering_pct     ``rebuffering_pct``, 0 when nothing played
inactive            ``sessions == 0``
payment_failed      ``payment_failures > 0``
complaint           ``complaints > 0``
price_increase      ``has_price_increase``
content_gap         ``has_content_gap``
new_tenure          ``tenure_days < 90``
plan                the plan (categorical)
==================  ======================================================

Logistic coefficients are log odds ratios; for a monthly churn of a few percent
they approximate log hazard ratios, so they compare directly with
proportional-hazards effects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from opskit.analytics._result import Finding, Result
from opskit.analytics.churn._common import provenance_of, require_columns
from opskit.analytics.churn.charts import forest_chart
from opskit.analytics.churn.model import ChurnModel
from opskit.metrics import SUBSCRIPTION_VALUE_MONTHS
from opskit.present.units import humanize

__all__ = [
    "ACTIONABLE",
    "DRIVERS",
    "DRIVER_NAMES",
    "NEW_TENURE_DAYS",
    "driver_attribution",
    "driver_effects",
    "driver_frame",
]

NEW_TENURE_DAYS = 90
#: Named drivers and what they mean (plan is categorical, the rest numeric/boolean).
DRIVERS = {
    "rebuffering_pct": "mean rebuffering last month (per percentage point)",
    "inactive": "no viewing last month",
    "payment_failed": "a failed payment last month",
    "complaint": "a complaint last month",
    "price_increase": "the plan's price rose in the last 90 days",
    "content_gap": "no release in the favourite genre in the last 60 days",
    "new_tenure": f"subscribed less than {NEW_TENURE_DAYS} days",
    "plan": "plan",
}
#: Short names of the drivers, as people read them in tables and charts.
DRIVER_NAMES = {
    "rebuffering_pct": "rebuffering (per point)",
    "inactive": "no viewing last month",
    "payment_failed": "failed payment",
    "complaint": "complaint",
    "price_increase": "price rise",
    "content_gap": "content gap",
    "new_tenure": "new subscriber",
    "plan": "plan",
}
ACTIONS = {
    "rebuffering_pct": "fix streaming quality where rebuffering is high (CDN/ISP)",
    "inactive": "re-engage inactive viewers with personalised recommendations",
    "payment_failed": "retry failed payments and prompt for a payment update",
    "complaint": "close complaint tickets fast and follow up",
    "price_increase": "offer price-lock or downgrade options to exposed subscribers",
    "content_gap": "schedule releases in genres with no recent titles",
    "new_tenure": "strengthen onboarding in the first 90 days",
}
_KEEP = ("subscriber_id", "month", "churned", "region", "device", "channel", "payment_method",
         "price_usd")  # fmt: skip
#: The churn drivers an initiative can act on, with the ``revenue_impact`` driver each
#: corresponds to (the ``initiatives`` table names those).
ACTIONABLE = {
    "rebuffering_pct": "high_rebuffering",
    "inactive": "low_engagement",
    "payment_failed": "payment_failure",
    "complaint": "complaint_contact",
    "price_increase": "price_increase",
    "content_gap": "content_gap",
}
#: Rebuffering counts as high above this mean (percent of watch time; ``revenue_impact``'s
#: ``HIGH_REBUFFERING`` of 2 %): switching the driver off brings it down to this level.
HIGH_REBUFFERING_PCT = 2.0


def driver_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The named churn drivers from a ``subscriber_months`` frame.

    Returns
    -------
    pandas.DataFrame
        The :data:`DRIVERS` columns plus ``subscriber_id, month, churned`` and the
        segment columns present (``region, device, channel, payment_method``);
        ``attrs`` (provenance) are kept.

    Raises
    ------
    ValueError
        If a source column is missing or the frame is empty.
    """
    need = ["rebuffering_pct", "sessions", "payment_failures", "complaints",
            "has_price_increase", "has_content_gap", "tenure_days", "plan"]  # fmt: skip
    require_columns(frame, need, "driver_frame")
    out = pd.DataFrame(
        {
            "rebuffering_pct": frame["rebuffering_pct"].astype("float64").fillna(0.0),
            "inactive": frame["sessions"].eq(0),
            "payment_failed": frame["payment_failures"].gt(0),
            "complaint": frame["complaints"].gt(0),
            "price_increase": frame["has_price_increase"].astype(bool),
            "content_gap": frame["has_content_gap"].astype(bool),
            "new_tenure": frame["tenure_days"].lt(NEW_TENURE_DAYS),
            "plan": frame["plan"].astype(str),
        },
        index=frame.index,
    )
    for c in _KEEP:
        if c in frame.columns:
            out[c] = frame[c]
    out.attrs = dict(frame.attrs)
    return out


def _fit(
    frame: pd.DataFrame, drivers: Sequence[str], target: str, reference: Mapping[str, str], C: float
) -> ChurnModel:
    ref = {k: v for k, v in reference.items() if k in drivers}
    model = ChurnModel("logit", C=C, calibration="none", reference=ref, constant="drop")
    return model.fit(frame[list(drivers)], frame[target].to_numpy())


def driver_effects(
    frame: pd.DataFrame,
    *,
    drivers: Sequence[str] | None = None,
    target: str = "churned",
    reference: Mapping[str, str] | None = None,
    confidence: float = 0.95,
    C: float = 1.0,
) -> Result:
    """Odds ratios of the churn drivers (regularised logit, Wald intervals).

    Parameters
    ----------
    frame
        A :func:`driver_frame` (or any frame with the driver and target columns).
    drivers
        Driver columns (default: the :data:`DRIVERS` present in ``frame``).
    reference
        Reference level per categorical driver (default ``{"plan": "ad_free"}``
        when that level exists).
    confidence
        Confidence level of the intervals.
    C
        Inverse L2 strength.

    Returns
    -------
    Result
        ``frame``: :meth:`ChurnModel.odds_ratios` (largest standardised effect
        first); chart: forest plot; findings: significant drivers that raise churn.
    """
    require_columns(frame, [target], "driver_effects")
    names = [d for d in (drivers or DRIVERS) if d in frame.columns]
    if not names:
        raise ValueError(f"driver_effects: none of the drivers {list(DRIVERS)} is in the frame")
    ref = dict(reference or {})
    if "plan" in names and "plan" not in ref and (frame["plan"] == "ad_free").any():
        ref["plan"] = "ad_free"
    model = _fit(frame, names, target, ref, C)
    table = model.odds_ratios(confidence)
    prov = provenance_of(frame)
    findings = []
    for r in table.itertuples():
        if r.coef > 0 and r.p_value < 1 - confidence and r.feature in ACTIONS:
            findings.append(
                Finding(
                    title=f"{DRIVERS[r.feature].capitalize()} raises churn odds {r.odds_ratio:.2f}x",
                    where="all subscribers",
                    source="churn_drivers",
                    action=ACTIONS[r.feature],
                    provenance=prov,
                    evidence={
                        "odds ratio": (float(r.odds_ratio), "ratio"),
                        "lower bound": (float(r.ci_low), "ratio"),
                        "upper bound": (float(r.ci_high), "ratio"),
                    },
                    confidence="high" if r.ci_low > 1.2 else "medium",
                )
            )
    table.insert(0, "driver_name", [
        DRIVER_NAMES.get(f, f) + (f": {humanize(str(lv))} vs {humanize(str(ref))}" if isinstance(lv, str) else "")
        for f, lv, ref in zip(table["feature"], table["level"], table["reference"], strict=True)
    ])  # fmt: skip
    notes = [
        f"The {DRIVER_NAMES.get(d, d)} driver was left out of the model: every subscriber in the "
        "data had the same value, so its effect cannot be estimated."
        for d in model.dropped_features_
    ]
    return Result(
        name="churn_drivers",
        frame=table,
        provenance=prov,
        findings=findings,
        notes=notes,
        summary={"rows": len(frame), "churn_rate": float(frame[target].mean()), "drivers": names},
        _chart=forest_chart,
    )


def driver_attribution(
    frame: pd.DataFrame,
    by: str = "region",
    *,
    drivers: Sequence[str] | None = None,
    target: str = "churned",
    min_churners: int = 30,
    confidence: float = 0.95,
    C: float = 1.0,
) -> Result:
    """Which drivers explain churn in each segment, with effect sizes.

    A logit of the drivers is fitted within each segment (constant drivers are
    dropped). Per driver: prevalence, odds ratio with interval, and the churners
    attributable to it: the fitted churn minus the churn predicted with the driver
    switched off (flags to false, rebuffering to 0) for everyone in the segment.

    Returns
    -------
    Result
        ``frame``: ``segment, driver, subscribers, churners, prevalence,
        odds_ratio, ci_low, ci_high, p_value, attributable_churners,
        attributable_share`` (of the segment's churners), largest first per
        segment; findings: the top driver of each segment.

    Raises
    ------
    ValueError
        Missing columns, or no segment with at least ``min_churners`` churners.
    """
    require_columns(frame, [target, by], "driver_attribution")
    names = [d for d in (drivers or DRIVERS) if d in frame.columns and d != by]
    prov = provenance_of(frame)
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for seg, part in frame.groupby(by, sort=True, observed=True):
        churners = int(part[target].sum())
        if churners < min_churners or churners == len(part):
            continue
        ref = {"plan": "ad_free"} if "plan" in names and (part["plan"] == "ad_free").any() else {}
        model = _fit(part, names, target, ref, C)
        ors = model.odds_ratios(confidence).set_index("term")
        x = part[list(names)]
        fitted = model.predict_uncalibrated(x).sum()
        seg_rows: list[dict[str, Any]] = []
        for d in names:
            if d == "plan" or d not in ors.index:
                continue
            off = x.copy()
            off[d] = 0.0 if d == "rebuffering_pct" else False
            attributable = float(fitted - model.predict_uncalibrated(off).sum())
            o = ors.loc[d]
            prevalence = float((x[d].astype(float) > 0).mean())
            seg_rows.append(
                {
                    "segment": str(seg), "driver": d, "subscribers": len(part),
                    "churners": churners, "prevalence": prevalence,
                    "odds_ratio": float(o["odds_ratio"]), "ci_low": float(o["ci_low"]),
                    "ci_high": float(o["ci_high"]), "p_value": float(o["p_value"]),
                    "attributable_churners": attributable,
                    "attributable_share": attributable / churners,
                }
            )  # fmt: skip
        seg_rows.sort(key=lambda r: -r["attributable_churners"])
        rows.extend(seg_rows)
        if seg_rows and seg_rows[0]["attributable_churners"] > 0:
            top = seg_rows[0]
            findings.append(
                Finding(
                    title=f"{DRIVERS[top['driver']].capitalize()} explains the most churn",
                    where=f"{by} {seg}",
                    source="churn_drivers",
                    action=ACTIONS[top["driver"]],
                    provenance=prov,
                    impact_subscribers=top["attributable_churners"],
                    impact_period="in the data window",
                    evidence={
                        "share of churners": (top["attributable_share"], "fraction"),
                        "odds ratio": (top["odds_ratio"], "ratio"),
                        "prevalence": (top["prevalence"], "fraction"),
                    },
                    confidence="high" if top["p_value"] < 0.01 else "medium",
                )
            )
    if not rows:
        raise ValueError(f"no {by!r} segment has at least {min_churners} churners")
    findings.sort(key=lambda f: -(f.impact_subscribers or 0.0))
    out = pd.DataFrame(rows)
    out["attributable_share"] = out["attributable_share"].astype("float64")
    return Result(
        name=f"churn_driver_attribution[{by}]",
        frame=out,
        provenance=prov,
        findings=findings,
        summary={"by": by, "segments": int(out["segment"].nunique())},
        _chart=_attribution_chart,
    )


def _attribution_chart(result: Result) -> Any:
    import altair as alt

    df = result.frame
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", title=result.summary.get("by")),
            x=alt.X("attributable_churners:Q", title="attributable churners", stack="zero"),
            color=alt.Color("driver:N"),
            tooltip=["segment", "driver", "attributable_churners", "odds_ratio", "prevalence"],
        )
        .properties(title="Churn attributable to each driver", width=420)
    )


def driver_losses(
    frame: pd.DataFrame,
    *,
    recent_months: int | None = 3,
    value_months: int = SUBSCRIPTION_VALUE_MONTHS,
    reference: Mapping[str, str] | None = None,
    C: float = 1.0,
    max_fit_rows: int | None = 150_000,
) -> pd.DataFrame:
    """The cancellations and revenue each actionable churn driver causes, per month.

    A logit of every driver is fitted on all of ``frame`` (a :func:`driver_frame` of
    ``subscriber_months`` with ``price_usd``): effect sizes are estimated from the whole
    history. A driver's cancellations are then counted on the ``recent_months`` last
    months (today's exposure): the fitted ones minus those predicted with the driver
    switched off (flags to false, rebuffering down to :data:`HIGH_REBUFFERING_PCT`), the
    other drivers held as they are; its revenue is those cancellations x
    ``value_months`` months of each subscriber's price. The uncertainty moves the
    driver's coefficient by its standard error (the fitted risk stays pinned to the data;
    only the counterfactual moves). This is what an initiative acting on the driver can
    win back (see :func:`opskit.analytics.decisions.initiatives_from_plans`). The model is
    fitted on a fixed-seed sample of ``max_fit_rows`` rows when the frame is larger; the
    cancellations are counted on every recent row.

    Returns
    -------
    pandas.DataFrame
        One row per actionable driver that varies in the data: ``driver`` (the
        ``revenue_impact`` name), ``model_driver``, ``odds_ratio``, ``exposed_share``
        (of the recent subscriber-months), ``churners_per_month``,
        ``revenue_lost_per_month_usd`` and its standard deviation
        ``revenue_lost_sd_usd``; ``attrs["months"]`` is the number of recent months.

    Raises
    ------
    ValueError
        Missing columns (``price_usd``, ``month`` and the drivers) or an empty frame.
    """
    require_columns(frame, ["price_usd", "month", "churned"], "driver_losses")
    names = [d for d in DRIVERS if d in frame.columns]
    ref = dict(reference or {})
    if "plan" in names and "plan" not in ref and (frame["plan"] == "ad_free").any():
        ref["plan"] = "ad_free"
    train = (
        frame
        if max_fit_rows is None or len(frame) <= max_fit_rows
        else frame.sample(max_fit_rows, random_state=0)
    )
    model = _fit(train, names, "churned", ref, C)
    months_all = pd.Series(frame["month"])
    keep = (
        sorted(months_all.unique())[-recent_months:]
        if recent_months
        else sorted(months_all.unique())
    )
    recent = frame[months_all.isin(keep).to_numpy()]
    x = recent[names]
    fitted = np.clip(model.predict_uncalibrated(x), 1e-12, 1 - 1e-12)
    logit = np.log(fitted / (1 - fitted))
    value = recent["price_usd"].astype("float64").fillna(0.0).to_numpy() * value_months
    months = max(len(keep), 1)
    coefs = model.odds_ratios().set_index("term")
    rows = []
    for d, impact_name in ACTIONABLE.items():
        if d not in names or d in model.dropped_features_ or d not in coefs.index:
            continue
        xd = x[d].astype("float64").to_numpy()
        delta = xd - np.minimum(xd, HIGH_REBUFFERING_PCT) if d == "rebuffering_pct" else xd
        beta, se = float(coefs.at[d, "coef"]), float(coefs.at[d, "se"])

        def caused(b: float, delta: np.ndarray = delta) -> np.ndarray:
            return np.asarray(fitted - 1.0 / (1.0 + np.exp(-(logit - b * delta))), dtype=float)

        mid, lo, hi = caused(beta), caused(beta - se), caused(beta + se)
        revenue = [float((c * value).sum()) / months for c in (mid, lo, hi)]
        rows.append(
            {
                "driver": impact_name, "model_driver": d, "odds_ratio": float(np.exp(beta)),
                "exposed_share": float((delta > 0).mean()),
                "churners_per_month": float(mid.sum()) / months,
                "revenue_lost_per_month_usd": revenue[0],
                "revenue_lost_sd_usd": abs(revenue[2] - revenue[1]) / 2,
            }
        )  # fmt: skip
    out = pd.DataFrame(
        rows, columns=["driver", "model_driver", "odds_ratio", "exposed_share", "churners_per_month",
                       "revenue_lost_per_month_usd", "revenue_lost_sd_usd"],
    )  # fmt: skip
    out.attrs = {**frame.attrs, "months": months}
    return out
