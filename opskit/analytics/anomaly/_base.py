"""The detector contract shared by every opskit anomaly detector.

* ``__init__(**params)`` only stores (and sanity-checks) parameters; learned state ends
  in ``_``; ``get_params`` / ``set_params`` are generic and reject unknown names.
* ``fit(data) -> self``, ``score(data) -> Series`` in [0, 1], ``detect(data) ->
  AnomalyFrame``, ``fit_detect(data)``; ``score``/``detect``/``update`` before ``fit``
  raise :class:`~opskit.errors.NotFittedError`.
* Subclasses implement ``_fit_core(series)`` and ``_score_core(values, times) -> Core``
  on the finite observations, plus ``_history()`` (how many past observations a score
  needs). Detectors that read clock time from a regular grid also implement
  ``_grid_use(times)`` for the ``attrs["regularised"]`` record.
* Input is time ordered; timestamps may repeat and be irregularly spaced (the policy is in
  :mod:`~opskit.analytics.anomaly._regular`). A NaN value scores NaN (``<NA>``), a +/-inf
  value scores 1; neither is passed to ``_score_core``, so neither enters the history.
* Scoring is causal: the score of a point uses that point and earlier ones only. The
  batch path is vectorised; :meth:`BaseDetector.update` is the online path (one point at
  a time, e.g. for alerting). It keeps the valid observations the newest score depends
  on (the last ``_history()``; the seasonal detector counts grid steps, so repeated
  timestamps do not shorten its memory) and scores the newest one from them, giving the
  same scores as the batch path.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import special

from opskit.analytics._params import Parameterised
from opskit.analytics.anomaly import _frame
from opskit.analytics.anomaly import _regular as regular
from opskit.analytics.anomaly._validate import as_series, check_window
from opskit.errors import NotFittedError

__all__ = ["BaseDetector", "Core", "log_p_two_sided"]

logger = logging.getLogger(__name__)

_LOG2 = float(np.log(2.0))


def log_p_two_sided(z: np.ndarray) -> np.ndarray:
    """Natural log of the two-sided Gaussian tail probability ``P(|Z| >= |z|)``."""
    return np.asarray(
        np.minimum(_LOG2 + special.log_ndtr(-np.abs(np.asarray(z, dtype=float))), 0.0), dtype=float
    )


@dataclass(frozen=True)
class Core:
    """What a detector computes per valid observation.

    ``logp`` is the log tail probability (NaN: cannot judge yet), ``expected`` the value
    the detector expected and ``scale`` the spread (standard-deviation units) of normal
    values around it, used to draw the band.
    """

    logp: np.ndarray
    expected: np.ndarray
    scale: np.ndarray


def _resolution(values: np.ndarray) -> float:
    """Smallest gap between distinct values (the data's quantum), 0 if fewer than 2."""
    distinct = np.unique(values)
    return float(np.diff(distinct).min()) if len(distinct) > 1 else 0.0


class BaseDetector(Parameterised):
    """Base class of all detectors (see the module docstring for the contract)."""

    #: Value of the ``detector`` column.
    name: ClassVar[str] = "base"
    #: Constructor parameters, in order.
    _param_names: ClassVar[tuple[str, ...]] = ("threshold",)
    #: Whether the ensemble calibrates this detector's surprise against the series' own
    #: past surprises (False: the surprise is already absolute evidence).
    calibrate: ClassVar[bool] = True
    threshold: float
    resolution_: float
    n_fit_: int

    # -- parameters ---------------------------------------------------------------------
    def _check_params(self) -> None:
        threshold = getattr(self, "threshold", _frame.DEFAULT_THRESHOLD)
        if not isinstance(threshold, float | int) or not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must be a score in [0, 1), got {threshold!r}")

    def _floor(self, level: np.ndarray) -> np.ndarray:
        """Smallest usable spread: the fitted data quantum, at least 1e-9 * max(1, |level|)."""
        rel = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(level)))
        return np.asarray(np.maximum(rel, getattr(self, "resolution_", 0.0)), dtype=float)

    def _min_periods(self, window: int, min_periods: int | None) -> int:
        return min(window, 30) if min_periods is None else min(min_periods, window)

    # -- subclass hooks -----------------------------------------------------------------
    def _fit_core(self, series: pd.Series) -> None:
        """Learn from the valid observations of ``series`` (default: nothing)."""

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        raise NotImplementedError

    def _history(self) -> int:
        """Past valid observations one score depends on (finite memory)."""
        raise NotImplementedError

    def _grid_use(self, times: pd.DatetimeIndex) -> regular.GridUse | None:
        """How a regular grid covered ``times`` (the finite observations); None: no grid."""
        return None

    # -- public API ---------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has been called."""
        return getattr(self, "n_fit_", None) is not None

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call .fit(data) or .fit_detect(data)"
            )

    def fit(self, data: pd.Series | pd.DataFrame) -> Self:
        """Learn what the detector needs (period, scale floors) from ``data``.

        Parameters
        ----------
        data
            A numeric Series on a DatetimeIndex, or a frame with ``timestamp``/``value``.

        Returns
        -------
        Self
            The fitted detector.
        """
        return self._fit_series(as_series(data, allow_repeated=True))

    def _fit_series(self, series: pd.Series) -> Self:
        """:meth:`fit` on a series :func:`as_series` already checked (ensemble members use it)."""
        self._check_params()
        valid = series[np.isfinite(series.to_numpy(dtype=float))]
        self.resolution_ = _resolution(valid.to_numpy())
        self._fit_core(valid)
        self.n_fit_ = len(valid)
        self.reset()
        logger.debug("fitted %r on %d observations", self, self.n_fit_)
        return self

    def _parts(self, series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        values = series.to_numpy(dtype=float)
        valid = np.isfinite(values)
        n = len(values)
        score = np.where(np.isinf(values), 1.0, np.nan)
        expected = np.full(n, np.nan)
        lower = np.full(n, np.nan)
        upper = np.full(n, np.nan)
        if valid.any():
            core = self._score_core(values[valid], pd.DatetimeIndex(series.index[valid]))
            z = self._band_z()
            score[valid] = _frame.score_from_logp(core.logp)
            expected[valid] = core.expected
            lower[valid] = core.expected - z * core.scale
            upper[valid] = core.expected + z * core.scale
        return score, expected, lower, upper

    def _band_z(self) -> float:
        p = _frame.p_from_score(float(getattr(self, "threshold", _frame.DEFAULT_THRESHOLD)))
        return float(-special.ndtri(p / 2.0))

    def score(self, data: pd.Series | pd.DataFrame) -> pd.Series:
        """Continuous anomaly score in [0, 1] per point (NaN: missing value or warm-up; 1: inf).

        Returns
        -------
        pd.Series
            float64 scores on the input's timestamps, named ``score``.
        """
        self._require_fitted()
        series = as_series(data, allow_repeated=True)
        score = self._parts(series)[0]
        return pd.Series(score, index=series.index, name="score")

    def detect(self, data: pd.Series | pd.DataFrame) -> pd.DataFrame:
        """Score every point and label those at or above ``threshold``.

        Returns
        -------
        AnomalyFrame
            Validated by :class:`~opskit.analytics.anomaly.AnomalyFrameSchema`, one row per
            input row in input order; ``attrs["regularised"]`` records repeated timestamps,
            NaN/inf values and the grid used (see :mod:`~opskit.analytics.anomaly._regular`).
        """
        return self._detect(data, validate=True)

    def _detect(self, data: pd.Series | pd.DataFrame, *, validate: bool) -> pd.DataFrame:
        self._require_fitted()
        series = as_series(data, allow_repeated=True)
        score, expected, lower, upper = self._parts(series)
        values = series.to_numpy(dtype=float)
        times = pd.DatetimeIndex(series.index)
        grid = self._grid_use(times[np.isfinite(values)])
        entry = regular.record(times, values, grid)
        logger.debug("%s scored %d rows: %s", self.name, len(series), entry)
        frame = _frame.build_frame(
            series,
            score=score,
            expected=expected,
            lower=lower,
            upper=upper,
            threshold=float(getattr(self, "threshold", _frame.DEFAULT_THRESHOLD)),
            detector=self.name,
            validate=False,
        )
        frame.attrs[regular.ATTR] = entry
        return _frame.validate_frame(frame) if validate else frame

    def fit_detect(self, data: pd.Series | pd.DataFrame) -> pd.DataFrame:
        """``fit(data)`` then ``detect(data)``."""
        return self.fit(data).detect(data)

    # -- online path --------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the online buffer (the fitted state is kept)."""
        self._buf_values: deque[float] = deque()
        self._buf_times: deque[pd.Timestamp] = deque()
        self._last_time: pd.Timestamp | None = None

    def _oldest_needed(self, ns: np.ndarray, end: int) -> int:
        """Position in ``ns`` (timestamps of buffered observations, ns) of the oldest one
        the score of observation ``end`` depends on (default: ``_history()`` back)."""
        return max(0, end - self._history())

    def update(self, timestamp: Any, value: float) -> float:
        """Score one new point from the past only (the alerting path).

        Parameters
        ----------
        timestamp
            Anything ``pd.Timestamp`` accepts; must not be earlier than the previous one.
        value
            The observation; NaN gives a NaN score, +/-inf a score of 1, and neither is
            remembered.

        Returns
        -------
        float
            The point's score, equal (to floating-point rounding) to what the batch
            :meth:`score` gives for the same point of the same series.
        """
        self._require_fitted()
        ts = pd.Timestamp(timestamp)
        if self._last_time is not None and ts < self._last_time:
            raise ValueError(
                f"update() needs timestamps in increasing order (repeats allowed); {ts} is "
                f"before {self._last_time}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ValueError(f"value must be numeric, got {type(value).__name__} {value!r}")
        self._last_time = ts
        if np.isnan(value):
            return float("nan")
        if np.isinf(value):
            return 1.0
        self._buf_values.append(float(value))
        self._buf_times.append(ts)
        values = np.fromiter(self._buf_values, dtype=float, count=len(self._buf_values))
        times = pd.DatetimeIndex(list(self._buf_times))
        cut = self._oldest_needed(np.asarray(times.as_unit("ns").asi8), len(values) - 1)
        for _ in range(cut):
            self._buf_values.popleft()
            self._buf_times.popleft()
        core = self._score_core(values[cut:], times[cut:])
        return float(_frame.score_from_logp(core.logp[-1:])[0])


def check_common(det: Any) -> None:
    """Shared checks of the ``window``/``min_periods`` parameters."""
    check_window("window", det.window, minimum=2)
    check_window("min_periods", det.min_periods, minimum=2, allow_none=True)
