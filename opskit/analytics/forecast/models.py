"""Forecasters: a seasonal-naive baseline and exponential smoothing with season detection.

=========================  ==============================================================
class                      forecasts
=========================  ==============================================================
``SeasonalNaiveForecaster`` the value one cycle earlier (the benchmark every model must
                           beat); normal intervals widening with each repeated cycle
``ETSForecaster``          exponential smoothing state-space models (statsmodels
                           ``ETSModel``), trend and season chosen by AICc; long cycles
                           (e.g. 288 five-minute steps) are taken out by STL first
=========================  ==============================================================
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd
from scipy import special
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.seasonal import STL

from opskit.analytics.forecast._base import BaseForecaster, Core
from opskit.analytics.forecast._validate import calendar_period, detect_season

__all__ = ["ETSForecaster", "SeasonalNaiveForecaster"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: Average days per month: the ``days_in_month`` adjustment scales to this month length.
MEAN_MONTH_DAYS = 365.25 / 12
_TRENDS = {"auto": (None, "damped"), None: (None,), "add": ("add",), "damped": ("damped",)}


def _z(level: float) -> float:
    return float(special.ndtri(0.5 + level / 2.0))


def _check_period(period: Any) -> None:
    if period is None or period == "auto":
        return
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < 1:
        raise ValueError(f"period must be 'auto', None or an integer >= 1, got {period!r}")


class SeasonalNaiveForecaster(BaseForecaster):
    """Forecast each step with the value one cycle earlier.

    Forecasts: ``y[T + h] = y[T + h - m * (k + 1)]`` with ``k = (h - 1) // m``; the
    interval is normal with standard deviation ``sigma * sqrt(k + 1)``, ``sigma`` the RMS
    of the in-sample seasonal differences (Hyndman & Athanasopoulos, *FPP3* 5.5).

    Parameters
    ----------
    period
        Cycle length in steps; ``"auto"`` (default) takes the calendar cycle of the
        sampling step (7 for daily, 24 for hourly data), whether or not it is strong: the
        baseline is a convention, not a model choice. 1 is the plain naive forecast.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> s = pd.Series(np.tile([1.0, 2, 3, 4, 5, 6, 7], 4),
    ...               index=pd.date_range("2026-01-01", periods=28, freq="D"))
    >>> SeasonalNaiveForecaster().fit(s).predict(3).yhat.tolist()
    [1.0, 2.0, 3.0]
    """

    name: ClassVar[str] = "seasonal_naive"
    _param_names: ClassVar[tuple[str, ...]] = ("period",)
    period: int | str

    def __init__(self, *, period: int | str = "auto") -> None:
        super().__init__(period=period)

    def _check_params(self) -> None:
        if self.period is None:
            raise ValueError("period must be 'auto' or an integer >= 1 (use 1 for naive)")
        _check_period(self.period)

    def _fit_core(self, series: pd.Series) -> None:
        index = pd.DatetimeIndex(series.index)
        m = calendar_period(index) if self.period == "auto" else int(self.period)
        y = series.to_numpy(dtype=float)
        if len(y) <= m:
            logger.warning(
                "series of %d points is shorter than the cycle %d: using naive", len(y), m
            )
            m = 1
        diffs = y[m:] - y[:-m]
        self.period_ = m
        self.sigma_ = float(np.sqrt(np.mean(diffs**2)))
        self.last_cycle_ = y[-m:]
        self.model_ = f"seasonal_naive[{m}]" if m > 1 else "naive"

    def _predict_core(self, horizon: int, level: float) -> Core:
        m = self.period_
        h = np.arange(horizon)
        yhat = self.last_cycle_[h % m]
        sd = self.sigma_ * np.sqrt(h // m + 1)
        z = _z(level)
        return yhat, yhat - z * sd, yhat + z * sd


def _quiet_fit(fn: Callable[[], T], what: str) -> tuple[T, list[str]]:
    """Run a statsmodels fit, turning *only* ConvergenceWarning into a logged note.

    An optimiser that stops before its tolerance still returns usable parameters, and the
    AICc comparison already penalises a poor fit, so the warning is recorded (returned and
    logged at WARNING) rather than raised; every other warning is re-emitted unchanged.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(f"{what}: {w.message}")
            logger.warning("%s did not fully converge: %s", what, w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, notes


class ETSForecaster(BaseForecaster):
    """Exponential smoothing (ETS, additive errors) with automatic trend and season.

    Forecasts: level, optional (damped) trend and an optional additive cycle. The cycle is
    the calendar cycle of the sampling step (weekly for daily data, daily for hourly and
    finer) when its STL seasonal strength is high enough (``period="auto"``). Cycles
    longer than ``max_ets_period`` steps are removed by a robust STL decomposition and
    projected forward unchanged, and the ETS model is fitted to the seasonally adjusted
    series (the intervals then ignore uncertainty in the seasonal shape). Among the
    candidate models the lowest AICc wins. Intervals are the models' analytic ones.

    Parameters
    ----------
    period
        ``"auto"`` (detect), None (no cycle) or a cycle length in steps.
    trend
        ``"auto"`` (none or damped, by AICc), None, ``"add"`` or ``"damped"``.
    adjust
        None, or ``"days_in_month"`` for daily flows booked per calendar month (daily
        recognised revenue = monthly price / days in month): the model sees the series
        scaled to a 30.44-day month, and the forecast is scaled back, so a 28-day February
        is not mistaken for a jump in demand.
    max_ets_period
        Longest cycle modelled inside ETS; longer ones go through STL.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(120)
    >>> s = pd.Series(100 + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, 120),
    ...               index=pd.date_range("2026-01-01", periods=120, freq="D"))
    >>> f = ETSForecaster().fit(s)
    >>> f.period_, len(f.predict(14, level=0.95))
    (7, 14)
    """

    name: ClassVar[str] = "ets"
    _param_names: ClassVar[tuple[str, ...]] = ("period", "trend", "adjust", "max_ets_period")
    period: int | str | None
    trend: str | None
    adjust: str | None
    max_ets_period: int

    def __init__(
        self,
        *,
        period: int | str | None = "auto",
        trend: str | None = "auto",
        adjust: str | None = None,
        max_ets_period: int = 24,
    ) -> None:
        super().__init__(period=period, trend=trend, adjust=adjust, max_ets_period=max_ets_period)

    def _check_params(self) -> None:
        _check_period(self.period)
        if self.trend not in _TRENDS:
            raise ValueError(f"trend must be one of {list(_TRENDS)}, got {self.trend!r}")
        if self.adjust not in (None, "days_in_month"):
            raise ValueError(f"adjust must be None or 'days_in_month', got {self.adjust!r}")
        if not isinstance(self.max_ets_period, int) or self.max_ets_period < 2:
            raise ValueError(f"max_ets_period must be an integer >= 2, got {self.max_ets_period!r}")

    def _factor(self, index: pd.DatetimeIndex) -> np.ndarray:
        if self.adjust is None:
            return np.ones(len(index))
        return np.asarray(index.days_in_month, dtype=float) / MEAN_MONTH_DAYS

    def _fit_core(self, series: pd.Series) -> None:
        index = pd.DatetimeIndex(series.index)
        if self.adjust == "days_in_month" and index.freqstr not in ("D", "B"):
            raise ValueError(f"adjust='days_in_month' needs daily data, got freq {index.freqstr}")
        y = series.to_numpy(dtype=float) * self._factor(index)
        if self.period == "auto":
            period = detect_season(pd.Series(y, index=index))
        else:
            period = None if self.period is None else int(self.period)
        if period is not None and period > 1 and len(y) < 2 * period + 2:
            logger.warning(
                "series of %d points is too short for a cycle of %d: fitting none", len(y), period
            )
            period = None
        period = period if period and period > 1 else None
        self.period_ = period
        self.seasonal_tail_: np.ndarray | None = None
        ets_period = period
        if period is not None and period > self.max_ets_period:
            stl = STL(y, period=period, robust=True).fit()
            seasonal = np.asarray(stl.seasonal)
            self.seasonal_tail_ = seasonal[-period:]
            y = y - seasonal
            ets_period = None
        # a Series whose index carries ``freq``: statsmodels needs it for prediction frames
        # and, having it, emits no "no frequency information" ValueWarning
        endog = pd.Series(y, index=index)
        self.convergence_notes_: list[str] = []
        best: tuple[float, Any, str] | None = None
        for trend in _TRENDS[self.trend]:
            kw: dict[str, Any] = {"error": "add"}
            if trend is not None:
                kw.update(trend="add", damped_trend=trend == "damped")
            if ets_period is not None:
                kw.update(seasonal="add", seasonal_periods=ets_period)
            label = _label(trend, ets_period)
            try:
                res, notes = _quiet_fit(partial(_fit_ets, endog, kw), label)
            except (ValueError, np.linalg.LinAlgError) as exc:
                logger.warning("skipping %s: %s", label, exc)
                continue
            aicc = float(res.aicc)
            if not np.isfinite(aicc):
                continue
            self.convergence_notes_ += notes
            if best is None or aicc < best[0]:
                best = (aicc, res, label)
        if best is None:
            raise ValueError("no exponential smoothing model could be fitted to this series")
        self.aicc_, self.result_, label = best
        stl_tag = f"stl[{period}]+" if self.seasonal_tail_ is not None else ""
        adj_tag = "/days_in_month" if self.adjust else ""
        self.model_ = f"{stl_tag}{label}{adj_tag}"

    def _predict_core(self, horizon: int, level: float) -> Core:
        n = int(self.result_.nobs)
        pred = self.result_.get_prediction(start=n, end=n + horizon - 1)
        frame = pred.summary_frame(alpha=1.0 - level)
        yhat = frame["mean"].to_numpy(dtype=float)
        lower = frame["pi_lower"].to_numpy(dtype=float)
        upper = frame["pi_upper"].to_numpy(dtype=float)
        if self.seasonal_tail_ is not None:
            m = len(self.seasonal_tail_)
            seas = self.seasonal_tail_[np.arange(horizon) % m]
            yhat, lower, upper = yhat + seas, lower + seas, upper + seas
        if self.adjust is not None:
            hist = self.history_
            future = pd.date_range(hist.index[-1], periods=horizon + 1, freq=hist.index.freq)[1:]
            f = self._factor(future)
            yhat, lower, upper = yhat / f, lower / f, upper / f
        return yhat, lower, upper


def _fit_ets(endog: pd.Series, kw: dict[str, Any]) -> Any:
    return ETSModel(endog, **kw).fit(disp=False, maxiter=200)


def _label(trend: str | None, period: int | None) -> str:
    t = {None: "N", "add": "A", "damped": "Ad"}[trend]
    s = f"A)[{period}]" if period else "N)"
    return f"ets(A,{t},{s}"
