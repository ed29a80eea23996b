"""Table-driven behaviour of every detector on small synthetic series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opskit.analytics.anomaly import (
    AnomalyFrameSchema,
    EnsembleDetector,
    IQRDetector,
    LevelShiftDetector,
    MADDetector,
    RangeDetector,
    SeasonalDetector,
    VarianceChangeDetector,
    ZScoreDetector,
)

N = 600


def _series(values: np.ndarray, freq: str = "h") -> pd.Series:
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values), freq=freq))


def noise(seed: int = 0, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, n)


def spike() -> pd.Series:
    x = noise()
    x[450] = 12.0
    return _series(x)


def dip() -> pd.Series:
    x = noise(1)
    x[450] = -12.0
    return _series(x)


def level_shift() -> pd.Series:
    x = noise(2)
    x[450:] += 4.0
    return _series(x)


def variance_change() -> pd.Series:
    x = noise(3)
    x[450:] *= 6.0
    return _series(x)


def seasonal_break() -> pd.Series:
    t = np.arange(24 * 30)
    x = 10 + 5 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(4).normal(0, 0.2, len(t))
    x[24 * 27 + 6] -= 3.0  # inside the normal range, wrong for its hour
    return _series(x)


def breakout() -> pd.Series:
    """Heavy-tailed bursts inside a known range, then a value beyond it."""
    rng = np.random.default_rng(9)
    x = rng.pareto(3.0, N)
    x[500] = x[:500].max() * 1.5
    return _series(x)


def breakdown() -> pd.Series:
    """Bounded noise (no records beyond the tolerance), then a drop below the range."""
    x = np.random.default_rng(10).uniform(19.0, 21.0, N)
    x[520] = 18.0
    return _series(x)


ENSEMBLE = EnsembleDetector(history=500)
RANGE = RangeDetector(window=1000, min_periods=300)

# (detector, series, where an anomaly must be flagged, where nothing may be flagged)
CASES = [
    ("zscore spike", ZScoreDetector(window=100), spike, slice(450, 451), slice(100, 440)),
    ("zscore dip", ZScoreDetector(window=100), dip, slice(450, 451), slice(100, 440)),
    ("mad spike", MADDetector(window=100), spike, slice(450, 451), slice(100, 440)),
    ("mad dip", MADDetector(window=100), dip, slice(450, 451), slice(100, 440)),
    ("iqr spike", IQRDetector(window=100), spike, slice(450, 451), slice(100, 440)),
    ("iqr dip", IQRDetector(window=100), dip, slice(450, 451), slice(100, 440)),
    (
        "level shift",
        LevelShiftDetector(window=12, reference=200),
        level_shift,
        slice(450, 462),
        slice(250, 440),
    ),
    (
        "variance",
        VarianceChangeDetector(window=24, reference=200),
        variance_change,
        slice(450, 474),
        slice(250, 440),
    ),
    ("seasonal", SeasonalDetector(), seasonal_break, slice(654, 655), slice(200, 640)),
    ("range breakout", RANGE, breakout, slice(500, 501), slice(100, 500)),
    ("range breakdown", RANGE, breakdown, slice(520, 521), slice(100, 520)),
    ("ensemble spike", ENSEMBLE, spike, slice(450, 451), slice(150, 440)),
    ("ensemble breakout", ENSEMBLE, breakout, slice(500, 501), slice(150, 500)),
    ("ensemble dip", ENSEMBLE, dip, slice(450, 451), slice(150, 440)),
    ("ensemble shift", ENSEMBLE, level_shift, slice(450, 462), slice(150, 440)),
    ("ensemble seasonal", ENSEMBLE, seasonal_break, slice(654, 655), slice(200, 640)),
]


@pytest.mark.parametrize(
    ("det", "make", "hit", "quiet"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_detector_flags_planted_anomaly_and_stays_quiet_elsewhere(det, make, hit, quiet):
    frame = det.fit_detect(make())
    AnomalyFrameSchema.validate(frame)
    flagged = frame["is_anomaly"].fillna(False).to_numpy(dtype=bool)
    assert flagged[hit].any(), f"missed the anomaly at rows {hit}"
    assert not flagged[quiet].any(), (
        f"false alarms at rows {np.flatnonzero(flagged[quiet]) + quiet.start}"
    )


ALL = [
    ZScoreDetector(window=50),
    MADDetector(window=50),
    IQRDetector(window=50),
    SeasonalDetector(period=24, window=50),
    LevelShiftDetector(window=6, reference=50),
    VarianceChangeDetector(window=12, reference=50),
    RangeDetector(window=100, min_periods=30),
    EnsembleDetector(history=100),
]
IDS = [d.name for d in ALL]


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_nan_input_gives_nan_score_and_na_label_never_false(det):
    x = noise(5, 300)
    x[[150, 151, 220]] = np.nan
    frame = det.fit_detect(_series(x))
    rows = frame.iloc[[150, 151, 220]]
    assert rows["score"].isna().all()
    assert rows["is_anomaly"].isna().all()
    assert rows["severity"].isna().all()


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_warm_up_points_are_na_not_normal(det):
    frame = det.fit_detect(_series(noise(6, 300)))
    assert frame["is_anomaly"].iloc[:2].isna().all()


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_gaps_in_timestamps_are_scored(det):
    s = _series(noise(7, 400))
    s = s.drop(s.index[200:230])  # 30 missing hours
    frame = det.fit_detect(s)
    assert len(frame) == 370
    assert frame["score"].iloc[250:].notna().all()


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_constant_series_has_no_anomalies(det):
    frame = det.fit_detect(_series(np.full(300, 7.0)))
    assert not frame["is_anomaly"].fillna(False).any()
    assert (frame["score"].dropna() == 0.0).all()


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_empty_series_gives_empty_valid_frame(det):
    frame = det.fit_detect(pd.Series([], dtype=float, index=pd.DatetimeIndex([])))
    assert frame.empty
    AnomalyFrameSchema.validate(frame)


@pytest.mark.parametrize("det", ALL, ids=IDS)
def test_very_short_series_is_all_na(det):
    frame = det.fit_detect(_series(np.array([1.0, 2.0, 3.0])))
    assert frame["is_anomaly"].isna().all()


def test_constant_series_that_changes_is_flagged():
    x = np.full(300, 5.0)
    x[250] = 6.0
    s = _series(x)
    frame = ZScoreDetector(window=100).fit(s.iloc[:200]).detect(s)  # fitted on the flat part
    assert frame["is_anomaly"].fillna(False).to_numpy().nonzero()[0].tolist() == [250]


def test_seasonal_period_is_detected_daily_or_given():
    s = seasonal_break()
    assert SeasonalDetector().fit(s).period_ == 24
    assert SeasonalDetector(period="1D").fit(s).period_ == 24
    assert SeasonalDetector().fit(_series(noise(8))).period_ is None


# (description, past values, new value, flagged?)
RANGE_CASES = [
    ("inside the range", [0.0, 10.0] * 20, 9.0, False),
    ("new max within the 5 % tolerance", [0.0, 10.0] * 20, 10.4, False),
    ("new max beyond the tolerance", [0.0, 10.0] * 20, 10.6, True),
    ("new min beyond the tolerance", [0.0, 10.0] * 20, -0.6, True),
    ("flat past gives no range evidence", [3.0] * 40, 50.0, False),
]


@pytest.mark.parametrize(
    ("past", "new", "flagged"), [c[1:] for c in RANGE_CASES], ids=[c[0] for c in RANGE_CASES]
)
def test_range_detector_flags_only_values_beyond_the_widened_range(past, new, flagged):
    s = _series(np.array([*past, new]))
    frame = RangeDetector(window=100, min_periods=30).fit_detect(s)
    assert bool(frame["is_anomaly"].iloc[-1]) is flagged
    assert not frame["is_anomaly"].iloc[:-1].fillna(False).any()


def test_range_detector_surprise_grows_with_the_excess():
    past = [0.0, 10.0] * 20
    det = RangeDetector(window=100, min_periods=30)
    near = det.fit_detect(_series(np.array([*past, 11.0])))["score"].iloc[-1]
    far = det.fit_detect(_series(np.array([*past, 30.0])))["score"].iloc[-1]
    assert 0.7 < near < far < 1.0


def test_range_detector_rejects_bad_tolerance():
    with pytest.raises(ValueError, match="tolerance"):
        RangeDetector(tolerance=0)
