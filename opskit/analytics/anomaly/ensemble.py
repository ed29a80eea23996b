"""The ensemble: every detector at once, calibrated against the series' own history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from opskit.analytics.anomaly import _rolling as roll
from opskit.analytics.anomaly._base import BaseDetector, Core
from opskit.analytics.anomaly._frame import DEFAULT_THRESHOLD
from opskit.analytics.anomaly._regular import GridUse
from opskit.analytics.anomaly._validate import check_window
from opskit.analytics.anomaly.change import LevelShiftDetector, VarianceChangeDetector
from opskit.analytics.anomaly.seasonal import SeasonalDetector
from opskit.analytics.anomaly.statistical import (
    IQRDetector,
    MADDetector,
    RangeDetector,
    ZScoreDetector,
)

__all__ = ["EnsembleDetector", "default_components"]

#: Surprise (``-log10 p``) the calibrated score gives a point as unusual as the series'
#: usual worst (its ``quantile`` of past surprises): the default label threshold.
REFERENCE_SURPRISE = 4.0
_LN10 = float(np.log(10.0))


def default_components() -> list[BaseDetector]:
    """One of each detector, with the ensemble's default settings."""
    return [
        ZScoreDetector(window=1000),
        MADDetector(window=200),
        IQRDetector(window=200),
        SeasonalDetector(window=1000),
        LevelShiftDetector(window=12, reference=500),
        VarianceChangeDetector(window=24, reference=500),
        RangeDetector(window=8640, tolerance=0.05),
    ]


class EnsembleDetector(BaseDetector):
    """All detectors combined, calibrated per series, one alert per episode.

    Detects: everything the components detect - spikes and dips (z-score, MAD, IQR),
    broken daily/weekly patterns (seasonal), level shifts and variance changes, values
    beyond the range of the last weeks (range) - with a
    single threshold that means the same on quiet and on noisy series.

    Three steps, all causal:

    1. *Calibrate* each statistical component: its surprise ``S = -log10 p`` is divided
       by the ``quantile`` of its own past surprises on this series (previous ``history``
       points; at least ``4 + log10(K)`` for K calibrated components, so a quiet series
       still needs p <= 1e-4 / K), so a heavy-tailed series (tweet counts) needs a much
       larger deviation than a quiet one (a CPU at 2 %) for the same score. A point as
       unusual as that quantile gets ``p = 1e-4`` (the default threshold). The result is
       capped at ``cap`` times that: one component's Gaussian tail extrapolation is not
       trusted beyond "``cap`` times as unusual as this series' usual worst" (a robust
       scale that collapses on quantised data would otherwise report p = 1e-500).
       Components with ``calibrate = False`` (:class:`RangeDetector`: a value beyond the
       range of the last weeks) are hard evidence and pass through unchanged.
    2. *Combine*: the largest calibrated surprise over the components.
    3. *Refractory*: a point that is not more surprising than the largest surprise of the
       previous ``refractory`` points is an echo of an alert already raised, and its
       calibrated surprise is multiplied by ``echo``. With the cap, a saturated episode
       raises one alert.

    Parameters
    ----------
    components
        Detectors to combine (default :func:`default_components`).
    history
        Past points the calibration quantile is taken over.
    quantile
        Quantile of past surprises that counts as "usual worst".
    cap
        Largest calibrated surprise of one component, in units of the usual worst
        (1.5: at most p = 10 ** -6, score 0.6).
    refractory
        Points after a surprise during which smaller surprises are echoes.
    echo
        Factor applied to echoes (0 silences them, 1 disables the refractory step).
    threshold
        Score at or above which a point is labelled anomalous (default p <= 1e-4).

    Returns
    -------
    AnomalyFrame
        From :meth:`detect`: expected and band from the first component.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(4)
    >>> x = rng.normal(size=3000); x[2500] = 12.0
    >>> s = pd.Series(x, index=pd.date_range("2024", periods=3000, freq="5min"))
    >>> frame = EnsembleDetector().fit_detect(s)
    >>> frame.score.idxmax() == 2500
    True
    """

    name = "ensemble"
    _param_names = (
        "components",
        "history",
        "quantile",
        "cap",
        "refractory",
        "echo",
        "threshold",
    )
    components: Sequence[BaseDetector] | None
    history: int
    quantile: float
    cap: float
    refractory: int
    echo: float
    components_: list[BaseDetector]

    def __init__(
        self,
        *,
        components: Sequence[BaseDetector] | None = None,
        history: int = 8000,
        quantile: float = 0.999,
        cap: float = 1.5,
        refractory: int = 30,
        echo: float = 0.0,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(
            components=components,
            history=history,
            quantile=quantile,
            cap=cap,
            refractory=refractory,
            echo=echo,
            threshold=threshold,
        )

    def _check_params(self) -> None:
        super()._check_params()
        check_window("history", self.history, minimum=2)
        check_window("refractory", self.refractory, minimum=1)
        if not 0.0 < float(self.quantile) < 1.0:
            raise ValueError(f"quantile must be in (0, 1), got {self.quantile!r}")
        cap = self.cap
        if isinstance(cap, bool) or not isinstance(cap, float | int) or not cap > 0.0:
            raise ValueError(f"cap must be a positive number, got {cap!r}")
        if not 0.0 <= float(self.echo) <= 1.0:
            raise ValueError(f"echo must be in [0, 1], got {self.echo!r}")
        if self.components is not None:
            bad = [c for c in self.components if not isinstance(c, BaseDetector)]
            if bad or not self.components:
                raise TypeError(f"components must be a non-empty list of detectors, got {bad!r}")

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (``components`` as given, None for the default)."""
        return super().get_params()

    def _fit_core(self, series: pd.Series) -> None:
        self.components_ = (
            list(self.components) if self.components is not None else default_components()
        )
        for det in self.components_:
            det._fit_series(series)

    def _grid_use(self, times: pd.DatetimeIndex) -> GridUse | None:
        """The grid of the first component that reads one (the seasonal detector)."""
        for det in self.components_:
            grid = det._grid_use(times)
            if grid is not None:
                return grid
        return None

    def _oldest_needed(self, ns: np.ndarray, end: int) -> int:
        # the calibration and refractory look-back, then each component's own
        anchor = max(0, end - int(self.history) - int(self.refractory))
        return min(det._oldest_needed(ns, anchor) for det in self.components_)

    def _history(self) -> int:
        comp = max(det._history() for det in self.components_)
        return comp + int(self.history) + int(self.refractory)

    def _calibrated(self, logp: np.ndarray) -> np.ndarray:
        """Surprise relative to the series' usual worst, in units of REFERENCE_SURPRISE."""
        surprise = -logp / _LN10
        filled = np.nan_to_num(surprise, nan=0.0)
        usual = roll.past_quantile(
            filled, self.history, self.quantile, min_periods=min(self.history, 100)
        )
        n_calibrated = sum(getattr(d, "calibrate", True) for d in self.components_)
        floor = REFERENCE_SURPRISE + np.log10(max(n_calibrated, 1))
        out = surprise / np.maximum(usual, floor) * REFERENCE_SURPRISE
        out = np.minimum(out, float(self.cap) * REFERENCE_SURPRISE)
        out[np.isnan(usual)] = np.nan
        return np.asarray(out, dtype=float)

    def _surprise(self, det: BaseDetector, core: Core) -> np.ndarray:
        """A component's surprise, calibrated and capped unless it opts out."""
        if getattr(det, "calibrate", True):
            return self._calibrated(core.logp)
        return np.asarray(-core.logp / _LN10, dtype=float)

    def _score_core(self, values: np.ndarray, times: pd.DatetimeIndex) -> Core:
        head, *rest = self.components_
        first = head._score_core(values, times)
        combined = self._surprise(head, first)
        for det in rest:
            # fmax ignores NaN: the result is NaN only where every component is NaN
            np.fmax(combined, self._surprise(det, det._score_core(values, times)), out=combined)
        filled = np.nan_to_num(combined, nan=0.0)
        recent = roll.past_max(filled, self.refractory)
        echo = filled <= np.nan_to_num(recent, nan=-1.0)
        combined = np.where(echo, combined * self.echo, combined)
        return Core(-combined * _LN10, first.expected, first.scale)
