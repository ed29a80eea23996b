"""Issue duration: time-to-resolve prediction with calibrated intervals, censoring-aware.

:class:`IssueDurationModel` is a log-normal accelerated-failure-time (AFT) model with a
covariate-dependent spread: ``log T = x'beta + exp(x'gamma) * eps``, ``eps ~ N(0, 1)``,
fitted by penalised maximum likelihood in which an issue still open contributes
``P(T > age)`` (right censoring), so long-running open issues are not silently dropped.
Categorical features are one-hot encoded (levels seen fewer than ``min_count`` times go
to ``other``); numeric ones are standardised.

Intervals are central: the 50 % interval is the 25th-75th percentile, the 90 % one the
5th-95th. For an open issue of age ``a`` the prediction is conditional on ``T > a``.

:func:`interval_calibration` checks the intervals on held-out issues twice: the share of
*resolved* held-out issues inside each interval, and a censoring-aware share from the
Kaplan-Meier estimate of the probability-integral transform ``F(T | x)`` (uniform for a
calibrated model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self, cast

import altair as alt
import numpy as np
import pandas as pd
from scipy import optimize, special

from opskit import provenance as prov
from opskit.analytics._result import Finding, Result
from opskit.errors import NotFittedError

__all__ = ["IssueDurationModel", "durations", "interval_calibration", "issue_duration"]

_MIN_DAYS = 1.0 / 1440  # one minute: a zero duration has no logarithm
_LOG_2PI = float(np.log(2 * np.pi))


def durations(
    issues: pd.DataFrame,
    *,
    created: str = "created",
    resolved: str = "resolved",
    as_of: pd.Timestamp | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Days to resolve (or open so far, at ``as_of``) and whether resolution was observed.

    ``as_of`` defaults to ``attrs["as_of"]`` of the frame, else the latest timestamp in it.

    Raises
    ------
    ValueError
        On missing columns, missing creation times or resolution before creation.
    """
    missing = {created, resolved} - set(issues.columns)
    if missing:
        raise ValueError(f"issues frame lacks column(s) {sorted(missing)}")
    c = pd.to_datetime(issues[created], utc=True)
    r = pd.to_datetime(issues[resolved], utc=True)
    if c.isna().any():
        raise ValueError(f"{int(c.isna().sum())} issue(s) have no {created!r} time")
    if as_of is None:
        raw = issues.attrs.get("as_of")
        as_of = pd.Timestamp(raw) if raw else max(c.max(), r.max() if r.notna().any() else c.max())
    as_of = pd.Timestamp(as_of)
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of
    observed = r.notna().to_numpy()
    end = r.where(r.notna(), as_of)
    days = ((end - c) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    if (days < 0).any():
        raise ValueError(f"{int((days < 0).sum())} issue(s) end before they were created")
    return np.maximum(days, _MIN_DAYS), observed


class IssueDurationModel:
    """Log-normal AFT model with covariate-dependent spread (see the module docstring).

    Parameters
    ----------
    features
        Columns of ``X`` used as predictors (text/categorical one-hot, numbers scaled).
    min_count
        Category levels rarer than this in the training data are pooled as ``other``.
    l2
        Ridge penalty on the coefficients (not the intercepts), per training issue.
    """

    def __init__(self, features: Sequence[str], *, min_count: int = 20, l2: float = 1e-3) -> None:
        if isinstance(features, str) or not features:
            raise ValueError("features must be a non-empty list of column names")
        if min_count < 1 or l2 < 0:
            raise ValueError("min_count must be >= 1 and l2 >= 0")
        self.features = list(features)
        self.min_count = min_count
        self.l2 = l2

    def __repr__(self) -> str:
        return f"IssueDurationModel(features={self.features!r}, min_count={self.min_count})"

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.features if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks feature column(s) {missing}")
        cols = [np.ones(len(X))]
        for name in self.features:
            col = X[name]
            if name in self.levels_:
                text = col.astype("string").fillna("(missing)")
                cols += [(text == lvl).to_numpy(dtype=float) for lvl in self.levels_[name]]
                known = text.isin(self.levels_[name]).to_numpy()
                cols.append((~known).astype(float))  # "other"
            else:
                mean, sd = self.scales_[name]
                cols.append((pd.to_numeric(col).fillna(mean).to_numpy(dtype=float) - mean) / sd)
        return np.column_stack(cols)

    def fit(self, X: pd.DataFrame, days: np.ndarray, observed: np.ndarray) -> Self:
        """Fit on issues ``X`` with durations ``days`` (> 0) and event flags ``observed``.

        Raises
        ------
        ValueError
            On empty input, mismatched lengths, non-positive durations, or no resolved issue.
        """
        days = np.asarray(days, dtype=float)
        observed = np.asarray(observed, dtype=bool)
        if len(X) == 0 or len(days) != len(X) or len(observed) != len(X):
            raise ValueError("X, days and observed must be non-empty and of equal length")
        if not np.all(np.isfinite(days)) or (days <= 0).any():
            raise ValueError("durations must be finite and > 0 days")
        if not observed.any():
            raise ValueError("at least one issue must be resolved (observed) to fit durations")
        self.levels_: dict[str, list[str]] = {}
        self.scales_: dict[str, tuple[float, float]] = {}
        for name in self.features:
            if name not in X.columns:
                raise ValueError(f"X lacks feature column {name!r}")
            col = X[name]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                v = col.to_numpy(dtype=float)
                sd = float(np.nanstd(v))
                self.scales_[name] = (float(np.nanmean(v)), sd if sd > 0 else 1.0)
            else:
                counts = col.astype("string").fillna("(missing)").value_counts()
                self.levels_[name] = sorted(counts[counts >= self.min_count].index)
        Z = self._design(X)
        logt = np.log(days)
        p = Z.shape[1]
        x0 = np.zeros(2 * p)
        x0[0], x0[p] = float(np.mean(logt[observed])), float(np.log(np.std(logt) + 1e-3))
        n = len(days)
        pen = np.r_[0.0, np.ones(p - 1), 0.0, np.ones(p - 1)] * self.l2 * n

        def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
            mu, log_s = Z @ theta[:p], Z @ theta[p:]
            s = np.exp(log_s)
            z = (logt - mu) / s
            log_surv = special.log_ndtr(-z)
            ll = np.where(observed, -log_s - 0.5 * z**2 - 0.5 * _LOG_2PI, log_surv)
            hazard = np.exp(-0.5 * z**2 - 0.5 * _LOG_2PI - log_surv)
            d_mu = np.where(observed, z / s, hazard / s)
            d_ls = np.where(observed, z**2 - 1.0, hazard * z)
            grad = -np.r_[Z.T @ d_mu, Z.T @ d_ls] + pen * theta
            return float(-ll.sum() + 0.5 * np.sum(pen * theta**2)), grad

        res = optimize.minimize(nll, x0, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
        if not np.all(np.isfinite(res.x)):
            raise ValueError(f"duration model did not converge: {res.message}")
        self.coef_, self.n_fit_ = res.x, n
        self.converged_ = bool(res.success)
        return self

    def _params(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "coef_"):
            raise NotFittedError("IssueDurationModel is not fitted; call .fit(X, days, observed)")
        Z = self._design(X)
        p = Z.shape[1]
        return Z @ self.coef_[:p], np.exp(Z @ self.coef_[p:])

    def cdf(self, X: pd.DataFrame, days: np.ndarray) -> np.ndarray:
        """``P(T <= days | x)`` per issue."""
        mu, s = self._params(X)
        return np.asarray(special.ndtr((np.log(np.maximum(days, _MIN_DAYS)) - mu) / s))

    def predict(
        self,
        X: pd.DataFrame,
        *,
        levels: Sequence[float] = (0.5, 0.9),
        age_days: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Median and central intervals of the time to resolve, in days from creation.

        With ``age_days`` (open issues) the distribution is conditional on ``T > age``.

        Returns
        -------
        pd.DataFrame
            ``median_days`` and ``lower_<pct>`` / ``upper_<pct>`` per level, on X's index.
        """
        mu, s = self._params(X)
        floor = (
            np.zeros(len(X))
            if age_days is None
            else special.ndtr(
                (np.log(np.maximum(np.asarray(age_days, dtype=float), _MIN_DAYS)) - mu) / s
            )
        )

        def quantile(q: float) -> np.ndarray:
            u = floor + q * (1.0 - floor)
            return np.asarray(np.exp(mu + s * special.ndtri(np.clip(u, 1e-12, 1 - 1e-12))))

        out = {"median_days": quantile(0.5)}
        for lvl in levels:
            if not 0 < lvl < 1:
                raise ValueError(f"levels must be in (0, 1), got {lvl}")
            pct = round(lvl * 100)
            out[f"lower_{pct}"] = quantile((1 - lvl) / 2)
            out[f"upper_{pct}"] = quantile((1 + lvl) / 2)
        return pd.DataFrame(out, index=X.index)


def _km_survival(u: np.ndarray, observed: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Kaplan-Meier ``P(U > at)`` from right-censored values ``u``."""
    order = np.argsort(u, kind="stable")
    u, observed = u[order], observed[order]
    at_risk = len(u) - np.arange(len(u))
    factors = np.where(observed, 1.0 - 1.0 / at_risk, 1.0)
    surv = np.cumprod(factors)
    idx = np.searchsorted(u, at, side="right") - 1
    return np.where(idx < 0, 1.0, surv[np.maximum(idx, 0)])


def interval_calibration(
    model: IssueDurationModel,
    X: pd.DataFrame,
    days: np.ndarray,
    observed: np.ndarray,
    *,
    levels: Sequence[float] = (0.5, 0.9),
) -> pd.DataFrame:
    """Share of held-out issues inside each central interval.

    Returns
    -------
    pd.DataFrame
        One row per level: ``level``, ``n`` (issues), ``n_resolved``,
        ``coverage_resolved`` (resolved issues inside the interval) and ``coverage``
        (censoring-aware, from the Kaplan-Meier estimate of ``F(T | x)``).
    """
    days = np.asarray(days, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    u = model.cdf(X, days)
    rows = []
    for lvl in levels:
        lo, hi = (1 - lvl) / 2, (1 + lvl) / 2
        inside = (u[observed] >= lo) & (u[observed] <= hi)
        s_lo, s_hi = _km_survival(u, observed, np.array([lo, hi]))
        rows.append(
            {
                "level": float(lvl),
                "n": len(days),
                "n_resolved": int(observed.sum()),
                "coverage_resolved": float(inside.mean()) if inside.size else np.nan,
                "coverage": float(s_lo - s_hi),
            }
        )
    return pd.DataFrame(rows)


def issue_duration(
    issues: pd.DataFrame,
    *,
    features: Sequence[str] = ("severity", "component", "team"),
    created: str = "created",
    resolved: str = "resolved",
    as_of: pd.Timestamp | None = None,
    holdout_share: float = 0.25,
    levels: Sequence[float] = (0.5, 0.9),
    min_count: int = 20,
) -> Result:
    """Fit, validate (time-based holdout) and apply a time-to-resolve model.

    The issues created last (``holdout_share`` of them) are held out: the model is fitted
    on the earlier ones (durations censored at the holdout start, so nothing after it is
    seen) and its interval calibration measured on the held-out issues. It is then refitted
    on everything and predicts when each open issue will be resolved.

    Parameters
    ----------
    issues
        One row per issue with ``created``/``resolved`` times (NaT = open) and the
        ``features`` (e.g. the ``production_issues`` dataset, or Jira bugs with
        ``("priority", "project", "component")``).
    as_of
        When the data was taken (default ``attrs["as_of"]`` or the latest time seen).
    holdout_share
        Share of the latest-created issues held out for calibration.
    levels
        Central interval levels.

    Returns
    -------
    Result
        ``frame``: open issues with age, median and intervals (days from creation) and
        the predicted resolution dates; ``tables["calibration"]``; ``tables["holdout"]``;
        ``chart()``: intervals of the open issues.
    """
    if len(issues) < 20:
        raise ValueError(f"need at least 20 issues to fit and validate, got {len(issues)}")
    if not 0 < holdout_share < 1:
        raise ValueError(f"holdout_share must be in (0, 1), got {holdout_share}")
    days, observed = durations(issues, created=created, resolved=resolved, as_of=as_of)
    c = pd.to_datetime(issues[created], utc=True)
    cut = c.quantile(1 - holdout_share)
    train = (c < cut).to_numpy()
    # censor the training issues at the holdout start: the model must not see the future
    cut_age = ((cut - c) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    t_days = np.where(train, np.minimum(days, np.maximum(cut_age, _MIN_DAYS)), days)
    t_obs = observed & (days <= cut_age)
    model = IssueDurationModel(features, min_count=min_count)
    model.fit(issues[train], t_days[train], t_obs[train])
    test = ~train
    calib = interval_calibration(model, issues[test], days[test], observed[test], levels=levels)
    full = IssueDurationModel(features, min_count=min_count).fit(issues, days, observed)
    open_ = issues[~observed]
    pred = full.predict(open_, levels=levels, age_days=days[~observed])
    frame = pd.concat(
        [
            open_[[created, *features]].reset_index(drop=True),
            pd.DataFrame({"age_days": days[~observed]}),
            pred.reset_index(drop=True),
        ],
        axis=1,
    )
    if "key" in issues:
        frame.insert(0, "key", open_["key"].to_numpy())
    frame["expected_resolution"] = pd.to_datetime(frame[created], utc=True) + pd.to_timedelta(
        frame["median_days"], unit="D"
    )
    holdout = pd.concat(
        [
            issues.loc[test, [created, *features]].reset_index(drop=True),
            pd.DataFrame({"days": days[test], "is_resolved": observed[test]}),
            model.predict(issues[test], levels=levels).reset_index(drop=True),
        ],
        axis=1,
    )
    try:
        p = prov.of(issues)
    except ValueError:
        p = prov.Provenance(
            kind="cache",
            systems=("caller",),
            as_of=pd.Timestamp(c.max()).to_pydatetime(),
            detail="issues supplied by the caller without provenance",
        )
    evidence = {
        f"held-out issues inside the {r.level:.0%} interval": (float(r.coverage), "fraction")
        for r in calib.itertuples()
    }
    evidence["held-out issues"] = (float(test.sum()), "count")
    worst = float((calib["coverage"] - calib["level"]).abs().max())
    finding = Finding(
        title="Time-to-resolve intervals for open issues",
        where=f"{len(open_)} open of {len(issues)} issues",
        source="issue_duration",
        impact_hours=float(pred["median_days"].sum() * 24 - days[~observed].sum() * 24),
        evidence=evidence,
        action="plan with the 90% upper bound for commitments, the median for capacity",
        provenance=p,
        confidence="high" if worst < 0.05 else ("medium" if worst < 0.1 else "low"),
    )
    summary: dict[str, Any] = {
        "issues": len(issues),
        "open": len(open_),
        "held_out": int(test.sum()),
        "holdout_start": cut.isoformat(),
        **{f"coverage {r.level:.0%}": float(r.coverage) for r in calib.itertuples()},
    }
    return Result(
        name="issue_duration",
        frame=frame,
        provenance=p,
        findings=[finding],
        summary=summary,
        tables={"calibration": calib, "holdout": holdout},
        _chart=_chart,
    )


def _chart(result: Result) -> alt.LayerChart:
    df = result.frame.copy()
    df = df.sort_values("median_days", ascending=False).head(40)
    label = "key" if "key" in df else df.columns[0]
    df["issue"] = df[label].astype(str)
    wide = [c for c in df.columns if c.startswith("lower_")]
    lo90, hi90 = max(wide, key=lambda c: int(c.split("_")[1])), None
    hi90 = lo90.replace("lower", "upper")
    lo50, hi50 = min(wide, key=lambda c: int(c.split("_")[1])), None
    hi50 = lo50.replace("lower", "upper")
    base = alt.Chart(df).encode(y=alt.Y("issue:N", sort="-x", title=None))
    outer = base.mark_rule(opacity=0.5).encode(
        x=alt.X(f"{lo90}:Q", title="days from creation"), x2=f"{hi90}:Q"
    )
    inner = base.mark_rule(strokeWidth=5).encode(x=f"{lo50}:Q", x2=f"{hi50}:Q")
    mid = base.mark_point(color="black").encode(x="median_days:Q", tooltip=list(df.columns[:6]))
    age = base.mark_tick(color="#e4572e").encode(x="age_days:Q")
    chart = alt.layer(outer, inner, mid, age).properties(
        title="open issues: time to resolve", width=550
    )
    return cast(alt.LayerChart, chart)
