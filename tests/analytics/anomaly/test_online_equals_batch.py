"""The online ``update`` path gives the batch scores, point by point, from the past only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opskit.analytics.anomaly import (
    EnsembleDetector,
    IQRDetector,
    LevelShiftDetector,
    MADDetector,
    RangeDetector,
    SeasonalDetector,
    VarianceChangeDetector,
    ZScoreDetector,
)
from opskit.errors import NotFittedError

DETECTORS = [
    ZScoreDetector(window=20, min_periods=5),
    MADDetector(window=21, min_periods=5),
    IQRDetector(window=20, min_periods=5),
    SeasonalDetector(period=12, seasons=2, window=20, min_periods=5),
    LevelShiftDetector(window=4, reference=20, min_periods=5),
    VarianceChangeDetector(window=6, reference=20, min_periods=5),
    RangeDetector(window=30, min_periods=10),
    EnsembleDetector(
        components=[ZScoreDetector(window=20), RangeDetector(window=30, min_periods=10)],
        history=40,
        refractory=5,
    ),
    EnsembleDetector(
        components=[ZScoreDetector(window=20), SeasonalDetector(period=12, seasons=2, window=20)],
        history=40,
        refractory=5,
    ),
]


def _series() -> pd.Series:
    rng = np.random.default_rng(11)
    t = np.arange(260)
    x = 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, len(t))
    x[200] += 9
    x[[60, 61, 130]] = np.nan
    s = pd.Series(x, index=pd.date_range("2024-01-01", periods=len(t), freq="h"))
    return s.drop(s.index[90:95])  # a gap


@pytest.mark.parametrize("det", DETECTORS, ids=[d.name for d in DETECTORS])
def test_update_point_by_point_equals_batch_score(det):
    s = _series()
    det.fit(s.iloc[:80])
    batch = det.score(s).to_numpy()
    online = np.array([det.update(t, v) for t, v in s.items()])
    np.testing.assert_allclose(online, batch, rtol=1e-9, atol=1e-12, equal_nan=True)


def _messy_series() -> pd.Series:
    """``_series`` with single rows missing, six hours written twice and jittered stamps."""
    s = _series()
    rng = np.random.default_rng(5)
    s = s.drop(s.index[rng.choice(len(s), 20, replace=False)])
    jitter = pd.to_timedelta(rng.integers(-600, 600, len(s)), unit="s")
    s = pd.Series(s.to_numpy(), index=s.index + jitter)
    return pd.concat([s, s.iloc[150:156] + 0.5]).sort_index(kind="stable")


@pytest.mark.parametrize("det", DETECTORS, ids=[d.name for d in DETECTORS])
def test_update_equals_batch_on_repeated_and_irregular_timestamps(det):
    s = _messy_series()
    assert s.index.has_duplicates
    det.fit(s.iloc[:80])
    batch = det.score(s).to_numpy()
    online = np.array([det.update(t, v) for t, v in s.items()])
    np.testing.assert_allclose(online, batch, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("det", DETECTORS[:2], ids=[d.name for d in DETECTORS[:2]])
def test_score_of_a_point_does_not_depend_on_the_future(det):
    s = _series()
    det.fit(s.iloc[:80])
    full = det.score(s).to_numpy()
    cut = det.score(s.iloc[:150]).to_numpy()
    np.testing.assert_allclose(cut, full[:150], rtol=1e-9, equal_nan=True)


def test_update_rejects_old_timestamps_and_text():
    det = ZScoreDetector(window=5).fit(_series())
    det.update("2025-01-01", 1.0)
    with pytest.raises(ValueError, match="increasing"):
        det.update("2024-12-31", 1.0)
    with pytest.raises(ValueError, match="numeric"):
        det.update("2025-01-02", "high")


def test_update_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        ZScoreDetector().update("2024-01-01", 1.0)
