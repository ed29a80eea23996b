"""Point detectors: the current value against the distribution of the recent past."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from opskit.analytics.anomaly import _rolling as roll
from opskit.analytics.anomaly._base import BaseDetector, Core, check_common, log_p_two_sided
from opskit.analytics.anomaly._frame import DEFAULT_THRESHOLD

__all__ = ["IQRDetector", "MADDetector", "RangeDetector", "ZScoreDetector", "scale_floor"]

#: Relative floor on a scale estimate, so a constant past gives finite z-scores.
REL_EPS = 1e-9


def scale_floor(level: np.ndarray) -> np.ndarray:
    """Smallest usable spread around ``level``: ``1e-9 * max(1, |level|)``."""
    return np.asarray(REL_EPS * np.maximum(1.0, np.abs(np.nan_to_num(level))), dtype=float)


def _z(values: np.ndarray, center: np.ndarray, scale: np.ndarray, floor: np.ndarray) -> np.ndarray:
    scale = np.maximum(scale, floor)
    with np.errstate(invalid="ignore"):
        return np.asarray((values - center) / scale, dtype=float)


class _WindowDetector(BaseDetector):
    """Shared parameters of the rolling-window detectors: ``window``, ``min_periods``, ``threshold``."""

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


class ZScoreDetector(_WindowDetector):
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

    def _history(self) -> int:
        return int(self.window)

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        mean, std = roll.past_mean_std(
            values, self.window, self._min_periods(self.window, self.min_periods)
        )
        z = _z(values, mean, std, self._floor(mean))
        return Core(log_p_two_sided(z), mean, std)


class MADDetector(_WindowDetector):
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


class IQRDetector(_WindowDetector):
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


class RangeDetector(BaseDetector):
    """New range: a value beyond everything seen in the previous ``window`` points.

    Detects: a value that leaves the range the series has ever (within its memory)
    taken - a new maximum or minimum by more than ``tolerance`` times the width of that
    range - whatever the local noise looks like. This is the "spatial anomaly" of the
    Numenta NAB detector. It is insensitive to noise, bursts and outliers inside the known
    range (which trouble the rolling detectors on heavy-tailed series such as tweet
    counts), and sees a breakout even where the rolling statistics have already adapted.

    With ``lo``/``hi`` the minimum/maximum of the previous ``window`` valid points and
    ``R = hi - lo``, the excess of ``x`` is ``u = (x - hi) / (tolerance R)`` above and
    ``(lo - x) / (tolerance R)`` below the range. Inside the widened range (``u <= 1``)
    the surprise is 0 (score 0); beyond it the surprise ``-log10 p`` is ``EDGE_SURPRISE
    * u`` (p <= 1e-10, severity ``critical``): a new range is strong evidence on its own.
    A flat past (``R = 0``) gives no evidence (the rolling detectors handle a flat line
    that moves).

    Parameters
    ----------
    window
        Number of previous valid observations whose range is remembered (default 8640:
        30 days of 5-minute data).
    tolerance
        Margin beyond the known range, as a fraction of its width, that a value must
        exceed (default 0.05).
    min_periods
        Observations needed before scoring (default ``min(window, 500)``: in a short
        history new records are common - the chance that the n-th of n exchangeable
        values is the largest is 1/n - so a range means little before a few hundred
        points).
    threshold
        Score at or above which a point is labelled anomalous (default p <= 1e-4).

    Returns
    -------
    AnomalyFrame
        From :meth:`detect`: expected = mid-range, band = the widened range.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=1000); x[800] = x[:800].max() + 2.0
    >>> s = pd.Series(x, index=pd.date_range("2024", periods=1000, freq="h"))
    >>> RangeDetector().fit_detect(s).is_anomaly.fillna(False).to_numpy().nonzero()[0]
    array([800])
    """

    name = "range"
    #: Surprise (``-log10 p``) at the edge of the widened range.
    EDGE_SURPRISE: ClassVar[float] = 10.0
    #: The ensemble uses this detector's surprise as it is (no per-series calibration).
    calibrate: ClassVar[bool] = False
    _param_names = ("window", "tolerance", "min_periods", "threshold")
    window: int
    tolerance: float
    min_periods: int | None

    def __init__(
        self,
        *,
        window: int = 8640,
        tolerance: float = 0.05,
        min_periods: int | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(
            window=window, tolerance=tolerance, min_periods=min_periods, threshold=threshold
        )

    def _check_params(self) -> None:
        super()._check_params()
        check_common(self)
        tol = self.tolerance
        if isinstance(tol, bool) or not isinstance(tol, float | int) or not tol > 0.0:
            raise ValueError(f"tolerance must be a positive number, got {tol!r}")

    def _history(self) -> int:
        return int(self.window)

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        mp = min(self.window, 500 if self.min_periods is None else self.min_periods)
        hi = roll.past_max(values, self.window, mp)
        lo = -roll.past_max(-values, self.window, mp)
        margin = float(self.tolerance) * (hi - lo)
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.maximum(values - hi, lo - values) / margin
        surprise = np.where((margin > 0) & (u > 1.0), self.EDGE_SURPRISE * u, 0.0)
        logp = np.where(np.isnan(hi), np.nan, -surprise * np.log(10.0))
        # band: the widened range, drawn as expected +/- z * scale
        scale = (hi - lo + 2.0 * margin) / (2.0 * self._band_z())
        return Core(logp, 0.5 * (hi + lo), scale)
