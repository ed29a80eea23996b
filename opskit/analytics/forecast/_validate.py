"""The one place forecaster input is checked, regularised and its season found.

:func:`as_regular_series` accepts a numeric Series on a DatetimeIndex (or a frame with
``timestamp``/``value`` columns, checked by the anomaly package's ``as_series``) and
returns a float64 Series on a *regular* index with its ``freq`` set. It **raises** on:

* empty input, or fewer than :data:`MIN_POINTS` valid observations (``ValueError``);
* a Series without a DatetimeIndex (``TypeError``), non-numeric values, NaT, unsorted or
  duplicate timestamps (``ValueError``);
* timestamps that do not lie on one regular grid (``ValueError``; resample first, e.g.
  ``series.resample("1h").mean()``);
* more than :data:`MAX_MISSING` of the grid missing (NaN or absent timestamps).

It **fixes**, with one WARNING log line: missing grid points and NaN values (up to
:data:`MAX_MISSING`), filled by linear interpolation (ends: nearest value), because the
state-space models need an unbroken series.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from statsmodels.tsa.seasonal import STL

from opskit.analytics.anomaly._validate import as_series

__all__ = [
    "MAX_MISSING",
    "MIN_POINTS",
    "MIN_SEASONAL_STRENGTH",
    "as_regular_series",
    "calendar_period",
    "detect_season",
]

logger = logging.getLogger(__name__)

#: Fewest valid observations a forecaster accepts.
MIN_POINTS = 8
#: Largest share of missing grid points that is interpolated rather than rejected.
MAX_MISSING = 0.2
#: STL seasonal strength ``1 - Var(R) / Var(S + R)`` needed to call a cycle real
#: (Wang, Smith & Hyndman 2006; 0 = no cycle, 1 = pure cycle).
MIN_SEASONAL_STRENGTH = 0.3

_DAY = pd.Timedelta(days=1)


def as_regular_series(data: pd.Series | pd.DataFrame) -> pd.Series:
    """Validate forecaster input and return a gap-free float64 Series with ``freq`` set.

    Parameters
    ----------
    data
        A numeric Series on a DatetimeIndex, or a frame with ``timestamp``/``value``.

    Returns
    -------
    pd.Series
        float64 values on a regular ``DatetimeIndex`` (``freq`` set); ``attrs`` kept.

    Raises
    ------
    TypeError, ValueError
        See the module docstring.
    """
    series = as_series(data)
    if series.empty or int(series.notna().sum()) < MIN_POINTS:
        raise ValueError(
            f"a forecaster needs at least {MIN_POINTS} valid observations, "
            f"got {int(series.notna().sum())}"
        )
    index = pd.DatetimeIndex(series.index)
    freq = index.freq or (pd.infer_freq(index) if len(index) >= 3 else None)
    if freq is None:
        step = pd.Timedelta(int(np.median(np.diff(index.asi8))), unit="ns")
        offsets = (index.asi8 - index.asi8[0]) % step.value
        if step.value <= 0 or np.any(offsets != 0):
            raise ValueError(
                "timestamps are not on a regular grid (median step "
                f"{step}); resample first, e.g. series.resample('{_rule(step)}').mean()"
            )
        freq = pd.tseries.frequencies.to_offset(step)
    full = pd.date_range(index[0], index[-1], freq=freq, name="timestamp")
    out = series.reindex(full)
    missing = int(out.isna().sum())
    if missing:
        share = missing / len(out)
        if share > MAX_MISSING:
            raise ValueError(
                f"{share:.0%} of the series is missing (NaN or absent timestamps); "
                f"at most {MAX_MISSING:.0%} is interpolated"
            )
        logger.warning(
            "interpolating %d missing of %d points (%.1f%%)", missing, len(out), 100 * share
        )
        out = out.interpolate(method="linear", limit_direction="both")
    out.index.freq = full.freq
    out.attrs = dict(series.attrs)
    return out


def _rule(step: pd.Timedelta) -> str:
    return "1D" if step >= _DAY else ("1h" if step >= pd.Timedelta(hours=1) else "5min")


def calendar_period(index: pd.DatetimeIndex) -> int:
    """The natural cycle of the sampling step, in steps (1 if none).

    Daily data has a weekly cycle (7); hourly and finer data a daily one (24 for
    hourly, 288 for 5-minute); weekly data a yearly one (52); coarser data none.
    """
    if index.freq is None:
        raise ValueError("calendar_period needs an index with freq (use as_regular_series)")
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(index.freq).nanos, unit="ns")
    if step < _DAY:
        return max(1, int(_DAY // step))
    if step == _DAY:
        return 7
    if step == 7 * _DAY:
        return 52
    return 1


def _fixed_step(index: pd.DatetimeIndex) -> bool:
    try:
        _ = pd.tseries.frequencies.to_offset(index.freq).nanos
    except ValueError:  # month / quarter offsets have no fixed length
        return False
    return True


def detect_season(series: pd.Series) -> int | None:
    """The calendar cycle if the data show it clearly enough, else None.

    The cycle is :func:`calendar_period`; it is accepted when the series spans at least
    two cycles and the STL seasonal strength reaches :data:`MIN_SEASONAL_STRENGTH`.
    """
    index = pd.DatetimeIndex(series.index)
    if not _fixed_step(index):
        return None
    period = calendar_period(index)
    values = series.to_numpy(dtype=float)
    if period < 2 or len(values) < 2 * period + 1 or np.ptp(values) == 0:
        return None
    fit = STL(values, period=period, robust=True).fit()
    resid, seas = np.asarray(fit.resid), np.asarray(fit.seasonal)
    total = float(np.var(seas + resid))
    strength = 0.0 if total == 0 else max(0.0, 1.0 - float(np.var(resid)) / total)
    logger.debug("seasonal strength at period %d: %.3f", period, strength)
    return period if strength >= MIN_SEASONAL_STRENGTH else None
