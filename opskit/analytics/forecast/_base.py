"""The forecaster contract, mirroring the detector contract of :mod:`opskit.analytics.anomaly`.

* ``__init__(**params)`` only stores (and checks) parameters; learned state ends in
  ``_``; ``get_params`` / ``set_params`` / ``clone`` are generic and reject unknown names.
* ``fit(data) -> self`` on a numeric Series with a DatetimeIndex (checked and
  regularised by :func:`~opskit.analytics.forecast._validate.as_regular_series`);
  ``predict(horizon, level=0.8) -> ForecastFrame``; ``predict`` before ``fit`` raises
  :class:`~opskit.errors.NotFittedError`.
* Subclasses implement ``_fit_core(series)`` and ``_predict_core(horizon, level)``
  returning ``(yhat, lower, upper)`` arrays.
* A constant series gets a documented rule instead of a model: a flat forecast at the
  constant with a zero-width interval (model ``"constant"``), logged at WARNING, since
  no spread can be estimated from data that never varied.
"""

from __future__ import annotations

import logging
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from opskit.analytics._params import Parameterised
from opskit.analytics.forecast._frame import build_forecast_frame
from opskit.analytics.forecast._validate import as_regular_series
from opskit.errors import NotFittedError

__all__ = ["LEVELS", "BaseForecaster", "check_level"]

logger = logging.getLogger(__name__)

#: The interval levels every forecaster supports (any value in (0, 1) is accepted).
LEVELS = (0.8, 0.95)

Core = tuple[np.ndarray, np.ndarray, np.ndarray]


def check_level(level: float) -> float:
    """Return ``level`` as float if it is in (0, 1), else raise ``ValueError``."""
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.0 < level < 1.0:
        raise ValueError(f"level must be a probability in (0, 1), e.g. 0.8 or 0.95; got {level!r}")
    return float(level)


class BaseForecaster(Parameterised):
    """Base class of all forecasters (see the module docstring for the contract)."""

    #: Short model name used in the ``model`` column.
    name: ClassVar[str] = "base"
    _param_names: ClassVar[tuple[str, ...]] = ()
    history_: pd.Series
    model_: str

    def clone(self) -> Self:
        """A new, unfitted forecaster with the same parameters."""
        return type(self)(**self.get_params())

    # -- subclass hooks -----------------------------------------------------------------
    def _fit_core(self, series: pd.Series) -> None:
        raise NotImplementedError

    def _predict_core(self, horizon: int, level: float) -> Core:
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has been called."""
        return hasattr(self, "history_")

    def fit(self, data: pd.Series | pd.DataFrame) -> Self:
        """Learn the model from ``data``.

        Parameters
        ----------
        data
            A numeric Series on a DatetimeIndex, or a frame with ``timestamp``/``value``.

        Returns
        -------
        Self
            The fitted forecaster.

        Raises
        ------
        TypeError, ValueError
            On invalid input (see ``as_regular_series``) or parameters.
        """
        self._check_params()
        series = as_regular_series(data)
        self.is_constant_ = bool(np.ptp(series.to_numpy()) == 0.0)
        if self.is_constant_:
            logger.warning(
                "constant series (%g): flat forecast with a zero-width interval",
                float(series.iloc[0]),
            )
            self.model_ = "constant"
        else:
            self._fit_core(series)
        self.history_ = series
        logger.debug("fitted %s on %d points", self.model_, len(series))
        return self

    def predict(self, horizon: int, level: float = 0.8) -> pd.DataFrame:
        """Forecast ``horizon`` steps after the data, with a central prediction interval.

        Parameters
        ----------
        horizon
            Number of future periods (>= 1), at the data's sampling step.
        level
            Interval coverage in (0, 1): 0.8 gives the 10 % - 90 % quantiles.

        Returns
        -------
        ForecastFrame
            Validated by :class:`~opskit.analytics.forecast.ForecastFrameSchema`; the
            input's provenance (``attrs``) is carried over.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        ValueError, TypeError
            On a bad horizon or level.
        """
        if not self.is_fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call .fit(series)")
        if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
            raise TypeError(f"horizon must be an integer, got {type(horizon).__name__}")
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        level = check_level(level)
        hist = self.history_
        index = pd.date_range(hist.index[-1], periods=int(horizon) + 1, freq=hist.index.freq)[1:]
        if self.is_constant_:
            flat = np.full(int(horizon), float(hist.iloc[-1]))
            yhat, lower, upper = flat, flat, flat
        else:
            yhat, lower, upper = self._predict_core(int(horizon), level)
        return build_forecast_frame(
            index,
            yhat=yhat,
            lower=lower,
            upper=upper,
            level=level,
            model=self.model_,
            attrs=hist.attrs,
        )

    def fit_predict(
        self, data: pd.Series | pd.DataFrame, horizon: int, level: float = 0.8
    ) -> pd.DataFrame:
        """``fit(data)`` then ``predict(horizon, level)``."""
        return self.fit(data).predict(horizon, level)
