"""Seasonal-decomposition residuals: the value against the same phase of past cycles."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from opskit.analytics.anomaly import _rolling as roll
from opskit.analytics.anomaly._base import BaseDetector, Core, check_common, log_p_two_sided
from opskit.analytics.anomaly._frame import DEFAULT_THRESHOLD
from opskit.analytics.anomaly._validate import check_window
from opskit.analytics.anomaly.statistical import _z

__all__ = ["SeasonalDetector", "detect_period", "sampling_step"]

logger = logging.getLogger(__name__)

_DAY_NS = 86_400 * 10**9
#: Candidate cycles for ``period="auto"``.
CANDIDATES = {"daily": _DAY_NS, "weekly": 7 * _DAY_NS}
#: Autocorrelation a candidate cycle needs to be accepted.
MIN_ACF = 0.3
#: How much more autocorrelation a longer cycle needs than an accepted shorter one.
MARGIN = 0.1


def _ns(times: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(times.as_unit("ns").asi8, dtype=np.int64)


def sampling_step(times: pd.DatetimeIndex) -> int:
    """Median spacing between timestamps, in nanoseconds (0 for fewer than 2 points)."""
    if len(times) < 2:
        return 0
    return int(np.median(np.diff(_ns(times))))


def _acf(values: np.ndarray, pos: np.ndarray, lag: int) -> float:
    """Autocorrelation at ``lag`` grid steps, using the pairs both present."""
    j = np.searchsorted(pos, pos + lag)
    j = np.minimum(j, len(pos) - 1)
    ok = pos[j] == pos + lag
    if ok.sum() < max(lag // 2, 10):
        return float("nan")
    x = values - values.mean()
    den = float(np.dot(x, x)) / len(x)
    if den == 0.0:
        return float("nan")
    return float(np.dot(x[ok], x[j[ok]]) / ok.sum() / den)


def detect_period(series: pd.Series, step_ns: int) -> int | None:
    """The daily or weekly cycle (in steps) with the strongest autocorrelation, or None.

    A cycle is a candidate when the series spans at least two of it; it is accepted when
    its autocorrelation is at least ``MIN_ACF`` (and, for weekly, ``MARGIN`` more
    than the daily one's).
    """
    if step_ns <= 0 or len(series) < 3:
        return None
    values = series.to_numpy(dtype=float)
    pos = np.rint((_ns(pd.DatetimeIndex(series.index)) - _ns(series.index[:1])[0]) / step_ns)
    pos = pos.astype(np.int64)
    best, best_acf = None, MIN_ACF
    for name, span in CANDIDATES.items():
        lag = round(span / step_ns)
        if lag < 3 or pos[-1] < 2 * lag:
            continue
        acf = _acf(values, pos, lag)
        logger.debug("autocorrelation at %s lag %d: %.3f", name, lag, acf)
        # a longer cycle must beat the shorter one clearly (a daily pattern repeats weekly)
        if acf >= best_acf + (MARGIN if best else 0.0):
            best, best_acf = lag, acf
    return best


class SeasonalDetector(BaseDetector):
    """Residuals of a causal seasonal decomposition.

    Detects: values that break a daily or weekly pattern (a missing daily peak, a flat
    stretch, a jump at an unusual hour) that a plain rolling detector misses because the
    cycle itself is larger than the anomaly.

    The seasonal baseline of a point is the median of the values at the same phase in the
    previous ``seasons`` cycles (found by timestamp, so gaps are skipped). The residual
    ``value - baseline`` is z-scored against the mean and standard deviation of the
    previous ``window`` residuals. Until one full past cycle exists the score is NaN.
    With no cycle (``period=None`` or none detected) the baseline is 0 and this is a
    rolling z-score.

    Parameters
    ----------
    period
        ``"auto"`` (daily or weekly, detected by autocorrelation at ``fit``), a number of
        sampling steps, a pandas offset string such as ``"1D"``, or None.
    seasons
        How many past cycles form the baseline.
    window
        Number of previous residuals used to scale the current one.
    min_periods
        Residuals needed before scoring (default ``min(window, 30)``).
    threshold
        Score at or above which a point is labelled anomalous (default p <= 1e-4).

    Returns
    -------
    AnomalyFrame
        From :meth:`detect`: expected = seasonal baseline + mean residual, band = expected
        +/- z * residual standard deviation.

    Raises
    ------
    ValueError
        If timestamps are too irregular to map onto the fitted sampling step (two points
        fall on the same step).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = pd.date_range("2024-01-01", periods=24 * 21, freq="h")
    >>> s = pd.Series(10 + 5 * np.sin(2 * np.pi * t.hour / 24), index=t)
    >>> s.iloc[24 * 18 + 12] += 3.0  # small against the cycle, large against its phase
    >>> det = SeasonalDetector().fit(s)
    >>> det.period_
    24
    >>> int(det.detect(s).is_anomaly.fillna(False).sum())
    1
    """

    name = "seasonal"
    _param_names = ("period", "seasons", "window", "min_periods", "threshold")
    period: int | str | None
    seasons: int
    window: int
    min_periods: int | None
    step_: int
    origin_: int
    period_: int | None

    def __init__(
        self,
        *,
        period: int | str | None = "auto",
        seasons: int = 3,
        window: int = 200,
        min_periods: int | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(
            period=period,
            seasons=seasons,
            window=window,
            min_periods=min_periods,
            threshold=threshold,
        )

    def _check_params(self) -> None:
        super()._check_params()
        check_common(self)
        check_window("seasons", self.seasons, minimum=1)
        if isinstance(self.period, str) and self.period != "auto":
            pd.Timedelta(self.period)  # raises ValueError on a bad offset string
        elif not isinstance(self.period, str) and self.period is not None:
            check_window("period", self.period, minimum=2)

    def _fit_core(self, series: pd.Series) -> None:
        index = pd.DatetimeIndex(series.index)
        self.step_ = sampling_step(index) or 1
        self.origin_ = int(_ns(index[:1])[0]) if len(index) else 0
        if self.period == "auto":
            self.period_ = detect_period(series, self.step_)
        elif isinstance(self.period, str):
            self.period_ = max(2, round(pd.Timedelta(self.period).value / self.step_))
        else:
            self.period_ = self.period
        logger.debug("seasonal period: %s steps of %d ns", self.period_, self.step_)

    def _history(self) -> int:
        return int(self.seasons) * int(self.period_ or 0) + int(self.window) + 1

    def _baseline(self, values: np.ndarray, times: pd.DatetimeIndex) -> np.ndarray:
        if not self.period_:
            return np.zeros(len(values))
        pos = np.rint((_ns(times) - self.origin_) / self.step_).astype(np.int64)
        if len(pos) > 1 and (np.diff(pos) <= 0).any():
            k = int(np.flatnonzero(np.diff(pos) <= 0)[0]) + 1
            raise ValueError(
                f"timestamps {times[k - 1]} and {times[k]} fall on the same sampling step "
                f"({pd.Timedelta(self.step_, 'ns')}); resample to a regular grid first"
            )
        lagged = np.full((len(values), self.seasons), np.nan)
        for k in range(1, self.seasons + 1):
            target = pos - k * self.period_
            j = np.minimum(np.searchsorted(pos, target), len(pos) - 1)
            hit = pos[j] == target
            lagged[hit, k - 1] = values[j[hit]]
        lagged.sort(axis=1)  # NaN sorts last
        count = np.sum(~np.isnan(lagged), axis=1)
        lo = np.take_along_axis(lagged, np.maximum((count - 1) // 2, 0)[:, None], axis=1)[:, 0]
        hi = np.take_along_axis(lagged, np.maximum(count // 2, 0)[:, None], axis=1)[:, 0]
        return np.where(count > 0, 0.5 * (lo + hi), np.nan)

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        base = self._baseline(values, times)
        resid = values - base
        mp = self._min_periods(self.window, self.min_periods)
        mean, std = roll.past_mean_std(resid, self.window, mp)
        z = _z(resid, mean, std, self._floor(base + mean))
        return Core(log_p_two_sided(z), base + mean, std)
