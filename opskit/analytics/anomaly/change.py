"""Change detectors: the recent stretch of the series against the stretch before it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.analytics.anomaly import _rolling as roll
from opskit.analytics.anomaly._base import BaseDetector, Core, log_p_two_sided
from opskit.analytics.anomaly._frame import DEFAULT_THRESHOLD
from opskit.analytics.anomaly._validate import check_window

__all__ = ["LevelShiftDetector", "VarianceChangeDetector"]


def _reference(
    values: np.ndarray, window: int, reference: int, mp: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the ``reference`` points that end ``window`` points ago."""
    mean, std = roll.past_mean_std(values, reference, mp)
    return roll.shift(mean, window - 1), roll.shift(std, window - 1)


def _recent(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the last ``window`` points, the current one included."""
    s = pd.Series(values, copy=False).rolling(window, min_periods=window)
    return s.mean().to_numpy(), s.std(ddof=1).to_numpy()


class _ChangeDetector(BaseDetector):
    _param_names = ("window", "reference", "min_periods", "threshold")
    window: int
    reference: int
    min_periods: int | None

    def __init__(
        self,
        *,
        window: int = 12,
        reference: int = 200,
        min_periods: int | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(
            window=window, reference=reference, min_periods=min_periods, threshold=threshold
        )

    def _check_params(self) -> None:
        super()._check_params()
        check_window("window", self.window, minimum=2)
        check_window("reference", self.reference, minimum=2)
        check_window("min_periods", self.min_periods, minimum=2, allow_none=True)

    def _history(self) -> int:
        return int(self.window) + int(self.reference)


class LevelShiftDetector(_ChangeDetector):
    """Level shift / change point: mean of the last ``window`` points vs the stretch before.

    Detects: sustained steps up or down (a deploy that doubles latency, traffic moved to
    another node) that point detectors flag only at the first point or not at all once
    their window has absorbed the new level.

    The statistic is a two-sample z: ``(recent mean - reference mean) / (reference std *
    sqrt(1 / window + 1 / reference))``, where the reference is the ``reference`` points
    that precede the recent ``window``.

    Parameters
    ----------
    window
        Recent points (the current one included) whose mean is tested.
    reference
        Points before them that define the old level.
    min_periods
        Reference points needed before scoring (default ``min(reference, 30)``).
    threshold
        Score at or above which a point is labelled anomalous (default p <= 1e-4).

    Returns
    -------
    AnomalyFrame
        From :meth:`detect`: expected = reference mean, band = reference mean +/- z *
        reference std.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> x = rng.normal(size=400); x[300:] += 3.0
    >>> s = pd.Series(x, index=pd.date_range("2024", periods=400, freq="min"))
    >>> flagged = LevelShiftDetector().fit_detect(s).is_anomaly.fillna(False)
    >>> bool(flagged.iloc[300:315].any()), bool(flagged.iloc[:290].any())
    (True, False)
    """

    name = "level_shift"

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        mp = self._min_periods(self.reference, self.min_periods)
        ref_mean, ref_std = _reference(values, self.window, self.reference, mp)
        recent_mean, _ = _recent(values, self.window)
        se = np.maximum(ref_std, self._floor(ref_mean)) * np.sqrt(
            1.0 / self.window + 1.0 / self.reference
        )
        with np.errstate(invalid="ignore"):
            z = (recent_mean - ref_mean) / se
        return Core(log_p_two_sided(z), ref_mean, ref_std)


class VarianceChangeDetector(_ChangeDetector):
    """Variance change: spread of the last ``window`` points vs the stretch before.

    Detects: a series that turns noisy or jittery (flapping health checks, unstable
    throughput) or goes suspiciously flat (a stuck sensor, a dead exporter).

    The statistic is the log variance ratio ``ln(s_recent^2 / s_ref^2)`` divided by its
    standard error under equal variances, ``sqrt(2 / (window - 1) + 2 / (reference - 1))``
    (the normal approximation of the F test); both directions count.

    Parameters
    ----------
    window
        Recent points (the current one included) whose variance is tested.
    reference
        Points before them that define the usual variance.
    min_periods
        Reference points needed before scoring (default ``min(reference, 30)``).
    threshold
        Score at or above which a point is labelled anomalous (default p <= 1e-4).

    Returns
    -------
    AnomalyFrame
        From :meth:`detect`: expected = reference mean, band = reference mean +/- z *
        reference std.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> x = rng.normal(size=400); x[300:] *= 6.0
    >>> s = pd.Series(x, index=pd.date_range("2024", periods=400, freq="min"))
    >>> flagged = VarianceChangeDetector(window=20).fit_detect(s).is_anomaly.fillna(False)
    >>> bool(flagged.iloc[300:330].any()), bool(flagged.iloc[:290].any())
    (True, False)
    """

    name = "variance_change"

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        mp = self._min_periods(self.reference, self.min_periods)
        ref_mean, ref_std = _reference(values, self.window, self.reference, mp)
        _, recent_std = _recent(values, self.window)
        floor = self._floor(ref_mean)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = 2.0 * (
                np.log(np.maximum(recent_std, floor)) - np.log(np.maximum(ref_std, floor))
            )
        se = np.sqrt(2.0 / (self.window - 1) + 2.0 / (self.reference - 1))
        return Core(log_p_two_sided(ratio / se), ref_mean, ref_std)
