"""Point detectors: the current value against the distribution of the recent past."""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.analytics.anomaly import _rolling as roll
from opskit.analytics.anomaly._base import BaseDetector, Core, check_common, log_p_two_sided
from opskit.analytics.anomaly._frame import DEFAULT_THRESHOLD

__all__ = ["IQRDetector", "MADDetector", "ZScoreDetector", "scale_floor"]

#: Relative floor on a scale estimate, so a constant past gives finite z-scores.
REL_EPS = 1e-9


def scale_floor(level: np.ndarray) -> np.ndarray:
    """Smallest usable spread around ``level``: ``1e-9 * max(1, |level|)``."""
    return np.asarray(REL_EPS * np.maximum(1.0, np.abs(np.nan_to_num(level))), dtype=float)


def _z(values: np.ndarray, center: np.ndarray, scale: np.ndarray, floor: np.ndarray) -> np.ndarray:
    scale = np.maximum(scale, floor)
    with np.errstate(invalid="ignore"):
        return np.asarray((values - center) / scale, dtype=float)


class ZScoreDetector(BaseDetector):
    """Rolling z-score: distance from the mean of the previous ``window`` points.

    Detects: spikes and dips in a series without strong seasonality, and the first
    points of a level shift.

    Parameters
    ----------
    window
        Number of previous valid observations the mean and standard deviation use.
    min_periods
        Observations needed before scoring (default ``min(window, 30)``); earlier points
        get a NaN score and ``<NA>`` label.
    threshold
        Score at or above which a point is labelled anomalous (default: p <= 1e-4,
        about 3.9 sigma).

    Returns
    -------
    AnomalyFrame
        From :meth:`detect`: expected = rolling mean, band = mean +/- z * std.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> s = pd.Series(np.sin(np.arange(300) / 5.0), index=pd.date_range("2024", periods=300, freq="h"))
    >>> s.iloc[250] = 8.0
    >>> frame = ZScoreDetector(window=100).fit_detect(s)
    >>> frame.loc[frame.is_anomaly == True, "timestamp"].dt.strftime("%m-%d %H").tolist()
    ['01-11 10']
    """

    name = "zscore"
    _param_names = ("window", "min_periods", "threshold")
    window: int
    min_periods: int | None

    def __init__(
        self,
        *,
        window: int = 200,
        min_periods: int | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(window=window, min_periods=min_periods, threshold=threshold)

    def _check_params(self) -> None:
        super()._check_params()
        check_common(self)

    def _history(self) -> int:
        return int(self.window)

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        mean, std = roll.past_mean_std(
            values, self.window, self._min_periods(self.window, self.min_periods)
        )
        z = _z(values, mean, std, self._floor(mean))
        return Core(log_p_two_sided(z), mean, std)


class MADDetector(BaseDetector):
    """Robust rolling z-score from the median and median absolute deviation (MAD).

    Detects: spikes and dips in noisy series whose past contains outliers (the median and
    MAD ignore them, where the mean and standard deviation would be dragged along).

    The spread is the median, over the previous ``window`` points, of each point's
    distance to the running median at its time (a causal MAD), times 1.4826. Where more
    than half of those distances are 0 (quantised data) the mean distance times 1.2533
    is used instead.

    Parameters
    ----------
    window
        Number of previous valid observations used.
    min_periods
        Observations needed before scoring (default ``min(window, 30)``).
    threshold
        Score at or above which a point is labelled anomalous (default p <= 1e-4).

    Returns
    -------
    AnomalyFrame
        From :meth:`detect`: expected = rolling median, band = median +/- z * 1.4826 MAD.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> s = pd.Series(rng.normal(size=400), index=pd.date_range("2024", periods=400, freq="h"))
    >>> s.iloc[300] = 9.0
    >>> bool(MADDetector(window=100).fit_detect(s).is_anomaly.iloc[300])
    True
    """

    name = "mad"
    _param_names = ("window", "min_periods", "threshold")
    window: int
    min_periods: int | None

    def __init__(
        self,
        *,
        window: int = 200,
        min_periods: int | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(window=window, min_periods=min_periods, threshold=threshold)

    def _check_params(self) -> None:
        super()._check_params()
        check_common(self)

    def _history(self) -> int:
        return 2 * int(self.window)

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        mp = self._min_periods(self.window, self.min_periods)
        med = roll.past_quantile(values, self.window, 0.5, mp)
        dev = np.abs(values - med)
        known = ~np.isnan(dev)
        mad = np.full(len(values), np.nan)
        mean_dev = np.full(len(values), np.nan)
        if known.any():
            first = int(np.argmax(known))
            mad[first:] = roll.past_quantile(dev[first:], self.window, 0.5, mp)
            mean_dev[first:] = roll.past_mean_std(dev[first:], self.window, mp)[0]
        scale = np.where(mad > 0, 1.4826 * mad, 1.2533 * mean_dev)
        z = _z(values, med, scale, self._floor(med))
        return Core(log_p_two_sided(z), med, scale)


class IQRDetector(BaseDetector):
    """Interquartile-range fences over the previous ``window`` points.

    Detects: values far outside the bulk of recent values (Tukey-style outliers), robust
    to skewed or heavy-tailed noise.

    The statistic is ``(x - midhinge) / (IQR / 1.349)``, the Gaussian-equivalent
    z-score of the quartiles; where the IQR is 0 the standard deviation is used.

    Parameters
    ----------
    window
        Number of previous valid observations used.
    min_periods
        Observations needed before scoring (default ``min(window, 30)``).
    threshold
        Score at or above which a point is labelled anomalous (default p <= 1e-4, i.e.
        about 2.5 IQR beyond the quartiles).

    Returns
    -------
    AnomalyFrame
        From :meth:`detect`: expected = midhinge, band = midhinge +/- z * IQR / 1.349.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> s = pd.Series(rng.exponential(size=400), index=pd.date_range("2024", periods=400, freq="h"))
    >>> s.iloc[350] = 40.0
    >>> bool(IQRDetector(window=200).fit_detect(s).is_anomaly.iloc[350])
    True
    """

    name = "iqr"
    _param_names = ("window", "min_periods", "threshold")
    window: int
    min_periods: int | None

    def __init__(
        self,
        *,
        window: int = 200,
        min_periods: int | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(window=window, min_periods=min_periods, threshold=threshold)

    def _check_params(self) -> None:
        super()._check_params()
        check_common(self)

    def _history(self) -> int:
        return int(self.window)

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        mp = self._min_periods(self.window, self.min_periods)
        q1 = roll.past_quantile(values, self.window, 0.25, mp)
        q3 = roll.past_quantile(values, self.window, 0.75, mp)
        mid = 0.5 * (q1 + q3)
        scale = (q3 - q1) / 1.349
        flat = scale <= 0
        if flat.any():
            std = roll.past_mean_std(values, self.window, mp)[1]
            scale = np.where(flat, std, scale)
        z = _z(values, mid, scale, self._floor(mid))
        return Core(log_p_two_sided(z), mid, scale)
