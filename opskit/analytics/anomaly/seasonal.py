"""Seasonal-decomposition residuals: the value against the same phase of past cycles.

The seasonal baseline is read from a regular grid at the series' sampling step
(:func:`~opskit.analytics.anomaly._grid.sampling_step`), whatever the spacing of the rows: each row is placed on its
nearest grid step and rows sharing a step (repeated or jittered timestamps) are averaged.
A row's baseline comes from the observed steps at its phase in past cycles; only when all
of those are empty is a short run of empty steps (at most :data:`FILL_FRACTION` of the
period) filled by linear interpolation between the steps around it - from rows earlier
than the one being scored, so scoring stays causal. Each row is then scored against that
baseline with its own value: one score per input row.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from opskit.analytics.anomaly import _rolling as roll
from opskit.analytics.anomaly._base import BaseDetector, Core, check_common, log_p_two_sided
from opskit.analytics.anomaly._frame import DEFAULT_THRESHOLD
from opskit.analytics.anomaly._grid import cells, grid_origin, nanoseconds, sampling_step
from opskit.analytics.anomaly._regular import GridUse
from opskit.analytics.anomaly._validate import check_window
from opskit.analytics.anomaly.statistical import _z

__all__ = ["FILL_FRACTION", "SeasonalDetector", "detect_period", "grid_origin", "sampling_step"]

logger = logging.getLogger(__name__)

_DAY_NS = 86_400 * 10**9
#: Candidate cycles for ``period="auto"``.
CANDIDATES = {"daily": _DAY_NS, "weekly": 7 * _DAY_NS}
#: Autocorrelation a candidate cycle needs to be accepted.
MIN_ACF = 0.3
#: How much more autocorrelation a longer cycle needs than an accepted shorter one.
MARGIN = 0.1
#: Longest run of empty grid steps the baseline interpolates, as a fraction of the period
#: (one hour of a daily cycle); longer gaps stay gaps.
FILL_FRACTION = 1 / 24


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


def detect_period(series: pd.Series, step_ns: int, origin_ns: int | None = None) -> int | None:
    """The daily or weekly cycle (in steps) with the strongest autocorrelation, or None.

    A cycle is a candidate when the series spans at least two of it; it is accepted when
    its autocorrelation is at least ``MIN_ACF`` (and, for weekly, ``MARGIN`` more
    than the daily one's). Rows sharing a grid step (``origin_ns`` + k ``step_ns``,
    default origin: the first timestamp) are averaged first.
    """
    if step_ns <= 0 or len(series) < 3:
        return None
    index = pd.DatetimeIndex(series.index)
    origin = int(nanoseconds(index[:1])[0]) if origin_ns is None else origin_ns
    raw = np.rint((nanoseconds(index) - origin) / step_ns).astype(np.int64)
    pos, values, _ = cells(series.to_numpy(dtype=float), raw - raw[0])
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
    previous ``seasons`` cycles, read by timestamp from a regular grid at the fitted
    sampling step (see the module docstring: rows sharing a step are averaged, empty steps
    skipped, or interpolated across short runs when a row has no observed one). The
    residual ``value - baseline`` of each row is z-scored against the mean and standard
    deviation of the previous ``window`` residuals. Until one full past cycle exists the
    score is NaN. With no cycle (``period=None`` or none detected) the baseline is 0 and
    this is a rolling z-score, which needs no grid.

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
    fill_: int

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
        self.origin_ = grid_origin(index, self.step_)
        if self.period == "auto":
            self.period_ = detect_period(series, self.step_, self.origin_)
        elif isinstance(self.period, str):
            self.period_ = max(2, round(pd.Timedelta(self.period).value / self.step_))
        else:
            self.period_ = self.period
        self.fill_ = max(1, int(int(self.period_ or 0) * FILL_FRACTION))
        logger.debug("seasonal period: %s steps of %d ns", self.period_, self.step_)

    def _history(self) -> int:
        cycles = int(self.seasons) * int(self.period_ or 0)
        return cycles + (int(self.fill_) if self.period_ else 0) + int(self.window) + 1

    def _oldest_needed(self, ns: np.ndarray, end: int) -> int:
        # the previous ``window`` residuals, and the grid steps their baselines read
        if not self.period_:
            return super()._oldest_needed(ns, end)
        pos = np.rint((ns - self.origin_) / self.step_)
        anchor = max(0, end - int(self.window))
        cut = pos[anchor] - int(self.seasons) * int(self.period_) - int(self.fill_) - 1
        return int(np.searchsorted(pos, cut))

    def _positions(self, times: pd.DatetimeIndex) -> np.ndarray:
        return np.rint((nanoseconds(times) - self.origin_) / self.step_).astype(np.int64)

    def _grid_use(self, times: pd.DatetimeIndex) -> GridUse | None:
        if not self.period_:
            return None
        pos = self._positions(times)
        if not len(pos):
            return GridUse(self.step_, 0, 0, 0)
        steps, _, counts = cells(np.zeros(len(pos)), pos)
        gaps = np.diff(steps) - 1
        return GridUse(
            self.step_,
            shared_steps=int((counts > 1).sum()),
            empty_steps=int(gaps.sum()),
            filled_steps=int(gaps[gaps <= self.fill_].sum()),
        )

    def _interpolated(
        self, steps: np.ndarray, level: np.ndarray, target: np.ndarray, now: np.ndarray
    ) -> np.ndarray:
        """Grid values at the empty steps ``target`` for rows at steps ``now``.

        ``steps`` are the observed grid steps (ascending) and ``level`` their mean values.
        An empty step inside a run of at most ``fill_`` empty steps gets the linear
        interpolation between the steps around the run, if the later one precedes ``now``
        (so only earlier rows are used); any other step gets NaN.
        """
        j = np.searchsorted(steps, target)
        right = np.minimum(j, len(steps) - 1)
        left = np.maximum(j - 1, 0)
        span = steps[right] - steps[left]
        ok = (j > 0) & (j < len(steps)) & (span - 1 <= self.fill_) & (steps[right] < now)
        ok &= steps[right] != target
        with np.errstate(invalid="ignore", divide="ignore"):
            w = (target - steps[left]) / span
            between = level[left] + w * (level[right] - level[left])
        return np.where(ok, between, np.nan)

    def _baseline(self, values: np.ndarray, times: pd.DatetimeIndex) -> np.ndarray:
        """Median of the same-phase steps of the previous ``seasons`` cycles, per row.

        Observed steps are used when a row has any; only a row whose same-phase steps are
        all empty falls back on interpolated ones (so a missing row never makes a clean
        series look anomalous, and a short gap never leaves a row unscored).
        """
        if not self.period_ or not len(values):
            return np.zeros(len(values))
        pos = self._positions(times)
        steps, level, _ = cells(values, pos)
        lagged = np.full((len(values), self.seasons), np.nan)
        for k in range(1, self.seasons + 1):
            target = pos - k * self.period_
            j = np.minimum(np.searchsorted(steps, target), len(steps) - 1)
            hit = steps[j] == target
            lagged[hit, k - 1] = level[j[hit]]
        none = np.flatnonzero(np.isnan(lagged).all(axis=1))
        if len(none):
            for k in range(1, self.seasons + 1):
                lagged[none, k - 1] = self._interpolated(
                    steps, level, pos[none] - k * self.period_, pos[none]
                )
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
