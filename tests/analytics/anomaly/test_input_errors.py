"""Bad input fails loudly, with a message that says what to fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opskit.analytics.anomaly import DETECTORS, ZScoreDetector, detect, get_detector
from opskit.errors import NotFittedError


def _index(n: int = 50) -> pd.DatetimeIndex:
    return pd.date_range("2024-01-01", periods=n, freq="min")


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (pd.Series(["a"] * 50, index=_index()), ValueError, "numeric"),
        (pd.Series([True] * 50, index=_index()), ValueError, "numeric"),
        (pd.Series(np.ones(50), index=_index()[::-1]), ValueError, "sorted"),
        (
            pd.Series(np.ones(55), index=_index().append(_index()[-5:])),
            ValueError,
            "sorted",
        ),
        (pd.Series(np.ones(50), index=_index().insert(10, pd.NaT)[:50]), ValueError, "NaT"),
        (pd.Series(np.ones(50)), TypeError, "DatetimeIndex"),
        (pd.DataFrame({"ts": _index(), "value": 1.0}), ValueError, "timestamp"),
        ([1.0, 2.0], TypeError, "Series or DataFrame"),
    ],
    ids=[
        "text",
        "bool",
        "unsorted",
        "goes-back-in-time",
        "nat",
        "no-datetime-index",
        "missing-column",
        "list",
    ],
)
def test_invalid_input_raises_clear_error(data, error, match):
    with pytest.raises(error, match=match):
        ZScoreDetector().fit(data)


@pytest.mark.parametrize("name", ["zscore", "mad", "iqr", "seasonal"])
def test_negative_window_raises_value_error(name):
    with pytest.raises(ValueError, match="window must be >= 2"):
        get_detector(name, window=-5)


def test_negative_change_windows_raise():
    with pytest.raises(ValueError, match="reference"):
        get_detector("level_shift", reference=-1)


def test_non_integer_window_raises_type_error():
    with pytest.raises(TypeError, match="window must be an integer"):
        ZScoreDetector(window=2.5)


def test_unknown_parameter_is_rejected_by_init_and_set_params():
    with pytest.raises(ValueError, match="unknown parameter"):
        get_detector("zscore", windw=10)
    det = ZScoreDetector()
    with pytest.raises(ValueError, match="no parameter"):
        det.set_params(windw=10)


def test_invalid_set_params_leaves_detector_unchanged():
    det = ZScoreDetector(window=30)
    with pytest.raises(ValueError):
        det.set_params(window=0)
    assert det.get_params()["window"] == 30


def test_get_params_round_trips():
    det = ZScoreDetector(window=30)
    assert ZScoreDetector(**det.get_params()).get_params() == det.get_params()
    assert det.set_params(window=40).window == 40


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="ensemble"):
        detect(pd.Series(np.ones(5), index=_index(5)), method="magic")


@pytest.mark.parametrize("name", list(DETECTORS))
def test_detect_and_score_before_fit_raise_not_fitted(name):
    s = pd.Series(np.ones(10), index=_index(10))
    with pytest.raises(NotFittedError):
        get_detector(name).detect(s)
    with pytest.raises(NotFittedError):
        get_detector(name).score(s)


def test_threshold_out_of_range_raises():
    with pytest.raises(ValueError, match="threshold"):
        ZScoreDetector(threshold=1.5)
