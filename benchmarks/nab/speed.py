"""Speed check: scoring a 1,000,000-point series, against a plain pandas z-score."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from opskit.analytics.anomaly import DETECTORS, BaseDetector

__all__ = ["make_series", "pandas_zscore", "time_detectors"]


def make_series(n: int = 1_000_000, seed: int = 0) -> pd.Series:
    """A 5-minute series with a daily cycle, noise, a few spikes and a level shift."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2020-01-01", periods=n, freq="5min")
    phase = 2 * np.pi * np.arange(n) / 288
    x = 50 + 10 * np.sin(phase) + rng.normal(0, 2, n)
    x[rng.integers(0, n, 50)] += 25
    x[n // 2 :] += 8
    return pd.Series(x, index=t, name="value")


def pandas_zscore(series: pd.Series, window: int = 200) -> pd.Series:
    """The baseline: a plain pandas rolling-window z-score of each point vs its past."""
    past = series.shift(1).rolling(window, min_periods=30)
    return ((series - past.mean()) / past.std()).abs()


def _best_of(fn: Callable[[], object], repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def time_detectors(n: int = 1_000_000) -> list[tuple[str, float, float]]:
    """(name, seconds, seconds / pandas baseline) per detector; the baseline comes first."""
    series = make_series(n)
    fit_part = series.iloc[:5000]
    baseline = _best_of(lambda: pandas_zscore(series))
    rows = [("pandas rolling z-score (baseline)", baseline, 1.0)]
    for name, cls in DETECTORS.items():
        det: BaseDetector = cls().fit(fit_part)
        seconds = _best_of(lambda det=det: det.score(series))
        rows.append((name, seconds, seconds / baseline))
    return rows
