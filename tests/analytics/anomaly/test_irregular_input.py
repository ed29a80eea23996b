"""Real monitoring series - a repeated daylight-saving hour, missing rows, jittered
timestamps - are scored row by row, and the result says what was done."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import opskit
from opskit.analytics.anomaly import DETECTORS, AnomalyFrameSchema, SeasonalDetector

METHODS = ["auto", *DETECTORS]
DAYS = 4
STEP = pd.Timedelta("5min")


def _local_times() -> pd.DatetimeIndex:
    """Four days of 5-minute stamps in Berlin wall-clock time: 02:00-02:55 on 27 Oct twice."""
    utc = pd.date_range("2024-10-24", periods=DAYS * 288, freq=STEP, tz="UTC")
    return utc.tz_convert("Europe/Berlin").tz_localize(None)


def _values(times: pd.DatetimeIndex, seed: int = 0) -> np.ndarray:
    hours = times.hour + times.minute / 60
    noise = np.random.default_rng(seed).normal(0.0, 1.0, len(times))
    return 50.0 + 10.0 * np.sin(2 * np.pi * hours / 24) + noise


def regular() -> pd.Series:
    t = pd.date_range("2024-10-24", periods=DAYS * 288, freq=STEP)
    return pd.Series(_values(t), index=t)


def dst_repeat() -> pd.Series:
    """Local time sorted stably: each stamp of the repeated hour twice, side by side."""
    t = _local_times()
    return pd.Series(_values(t), index=t).sort_index(kind="stable")


def irregular() -> pd.Series:
    """10 % of rows missing and half the stamps jittered by up to 60 s."""
    t = pd.date_range("2024-10-24", periods=DAYS * 288, freq=STEP)
    rng = np.random.default_rng(1)
    jitter = rng.integers(-60, 61, len(t)) * (rng.random(len(t)) < 0.5)
    s = pd.Series(_values(t, seed=2), index=t + pd.to_timedelta(jitter, unit="s"))
    return s[rng.random(len(s)) >= 0.1]


def both() -> pd.Series:
    """The repeated hour, missing rows and jitter at once."""
    s = dst_repeat()
    rng = np.random.default_rng(3)
    jitter = pd.to_timedelta(rng.integers(-30, 31, len(s)) * (rng.random(len(s)) < 0.3), unit="s")
    s = pd.Series(s.to_numpy(), index=s.index + jitter)
    return s[rng.random(len(s)) >= 0.1].sort_index(kind="stable")


SHAPES = {"dst_repeat": dst_repeat, "irregular": irregular, "both": both}


def _warm_up(score: pd.Series) -> int:
    """Leading rows without a score (too little history to judge)."""
    known = score.notna().to_numpy()
    return int(np.argmax(known)) if known.any() else len(known)


@pytest.fixture(scope="module")
def regular_warm_up() -> dict[str, int]:
    return {m: _warm_up(opskit.detect(regular(), m)["score"]) for m in METHODS}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("method", METHODS)
def test_every_row_is_scored_in_input_order(method, shape, regular_warm_up):
    s = SHAPES[shape]()
    frame = opskit.detect(s, method)
    AnomalyFrameSchema.validate(frame)
    assert len(frame) == len(s)
    stamps = frame["timestamp"].dt.tz_localize(None).to_numpy()
    np.testing.assert_array_equal(stamps, s.index.to_numpy())
    np.testing.assert_array_equal(frame["value"].to_numpy(), s.to_numpy())
    warm = _warm_up(frame["score"])
    assert warm <= regular_warm_up[method] + 12  # the repeated hour adds at most 12 rows
    assert np.isfinite(frame["score"].iloc[warm:]).all(), "a row after the warm-up has no score"
    assert frame["is_anomaly"].iloc[warm:].notna().all()


@pytest.mark.parametrize("method", ["seasonal", "auto"])
def test_attrs_record_the_repeated_hour_and_the_grid(method):
    s = dst_repeat()
    record = opskit.detect(s, method).attrs["regularised"]
    assert record == {
        "duplicates": "keep",
        "repeated_timestamps": 12,
        "missing_values": 0,
        "infinite_values": 0,
        "grid": "5min",
        "shared_steps": 12,
        "empty_steps": 0,
        "filled_steps": 0,
    }


def test_attrs_count_the_missing_grid_steps():
    s = irregular()
    record = opskit.detect(s, "seasonal").attrs["regularised"]
    assert record["grid"] == "5min"
    assert record["repeated_timestamps"] == 0
    assert record["empty_steps"] == DAYS * 288 - len(s)
    assert 0 < record["filled_steps"] <= record["empty_steps"]


def test_detectors_without_a_grid_say_so():
    record = opskit.detect(dst_repeat(), "zscore").attrs["regularised"]
    assert record["grid"] is None
    assert record["repeated_timestamps"] == 12


def test_a_regular_series_records_nothing_done():
    record = opskit.detect(regular(), "auto").attrs["regularised"]
    assert record["repeated_timestamps"] == record["empty_steps"] == record["shared_steps"] == 0
    assert record["grid"] == "5min"


@pytest.mark.parametrize("method", METHODS)
def test_long_frame_scores_every_row_of_every_series(method):
    parts = []
    for entity, make in [("api", dst_repeat), ("cdn", irregular)]:
        s = make()
        parts.append(pd.DataFrame({"entity": entity, "timestamp": s.index, "value": s.values}))
    long = pd.concat(parts, ignore_index=True)
    frame = opskit.detect(long, method)
    assert len(frame) == len(long)
    for entity, part in zip(["api", "cdn"], parts, strict=True):
        rows = frame[frame["entity"] == entity]
        np.testing.assert_array_equal(rows["value"].to_numpy(), part["value"].to_numpy())
        warm = _warm_up(rows["score"])
        assert warm < len(rows) // 2
        assert np.isfinite(rows["score"].iloc[warm:]).all()
    record = frame.attrs["regularised"]
    assert record["repeated_timestamps"] == 12
    assert record["grid"] == ("5min" if method in {"auto", "ensemble", "seasonal"} else None)


def test_long_frame_combines_repeated_timestamps_per_series():
    parts = []
    for entity, make in [("api", dst_repeat), ("cdn", both)]:
        s = make()
        parts.append(pd.DataFrame({"entity": entity, "timestamp": s.index, "value": s.values}))
    long = pd.concat(parts, ignore_index=True)
    frame = opskit.detect(long, "auto", duplicates="max")
    assert len(frame) == len(long)
    np.testing.assert_array_equal(frame["value"].to_numpy(), long["value"].to_numpy())
    api = frame[frame["entity"] == "api"]
    repeated = api[api["timestamp"].duplicated(keep=False)]
    assert len(repeated) == 24
    assert repeated.groupby("timestamp")["score"].nunique(dropna=False).eq(1).all()
    record = frame.attrs["regularised"]
    assert record["duplicates"] == "max"
    assert record["repeated_timestamps"] == sum(p["timestamp"].duplicated().sum() for p in parts)


def _with_break(s: pd.Series) -> tuple[pd.Series, int]:
    hit = int(np.argmax(s.index >= "2024-10-27 14:00"))
    s.iloc[hit] -= 6.0  # normal for the series, wrong for 14:00
    return s, hit


@pytest.mark.parametrize("method", ["seasonal", "auto"])
def test_seasonal_break_is_found_on_an_irregular_series_without_extra_alarms(method):
    def flagged(s: pd.Series) -> np.ndarray:
        return opskit.detect(s, method)["is_anomaly"].fillna(False).to_numpy(dtype=bool)

    s, hit = _with_break(both())
    on_irregular = flagged(s)
    assert on_irregular[hit]
    # the ensemble raises a few alarms on any 4-day series while it calibrates; the
    # irregular input must not add to them
    on_regular = flagged(_with_break(regular())[0])
    assert on_irregular.sum() <= on_regular.sum() + 2


def test_daily_period_is_found_on_an_irregular_series():
    for make in SHAPES.values():
        det = SeasonalDetector().fit(make())
        assert det.period_ == 288
        assert det.step_ == STEP.value


def _spike_on_a_repeated_row() -> tuple[pd.Series, int]:
    s = dst_repeat()
    twin = int(np.flatnonzero(s.index.duplicated())[5])  # second row of a repeated stamp
    s.iloc[twin] += 30.0
    return s, twin


def test_keep_scores_repeated_rows_separately():
    s, twin = _spike_on_a_repeated_row()
    frame = opskit.detect(s, "zscore", duplicates="keep")
    assert bool(frame["is_anomaly"].iloc[twin])
    assert not bool(frame["is_anomaly"].iloc[twin - 1])


@pytest.mark.parametrize("reducer", ["mean", "median", "max", "min", "sum", "first", "last"])
def test_a_reducer_gives_each_row_of_a_timestamp_its_combined_score(reducer):
    s, twin = _spike_on_a_repeated_row()
    frame = opskit.detect(s, "auto", duplicates=reducer)
    assert len(frame) == len(s)
    np.testing.assert_array_equal(frame["value"].to_numpy(), s.to_numpy())  # own values
    assert frame["score"].iloc[twin] == frame["score"].iloc[twin - 1]
    record = frame.attrs["regularised"]
    assert record["duplicates"] == reducer
    assert record["repeated_timestamps"] == 12
    assert record["shared_steps"] == 0  # combined before the grid


def test_max_reducer_flags_both_rows_of_a_spiked_timestamp():
    s, twin = _spike_on_a_repeated_row()
    frame = opskit.detect(s, "zscore", duplicates="max")
    assert frame["is_anomaly"].iloc[[twin - 1, twin]].tolist() == [True, True]


def test_unknown_duplicates_policy_lists_the_valid_ones():
    with pytest.raises(ValueError, match="keep"):
        opskit.detect(regular(), duplicates="average")


@pytest.mark.parametrize("method", METHODS)
def test_nan_rows_are_na_and_inf_rows_score_one_without_poisoning_the_rest(method):
    s = irregular()
    s.iloc[[700, 701]] = np.nan
    s.iloc[800] = np.inf
    s.iloc[900] = -np.inf
    frame = opskit.detect(s, method)
    assert frame["score"].iloc[[700, 701]].isna().all()
    assert frame["is_anomaly"].iloc[[700, 701]].isna().all()
    assert frame["score"].iloc[[800, 900]].tolist() == [1.0, 1.0]
    assert frame["severity"].iloc[[800, 900]].tolist() == ["critical", "critical"]
    later = frame["score"].drop(index=[700, 701, 800, 900]).iloc[_warm_up(frame["score"]) :]
    assert np.isfinite(later).all()
    record = frame.attrs["regularised"]
    assert (record["missing_values"], record["infinite_values"]) == (2, 2)


def test_all_nan_series_is_all_na_not_an_error():
    s = pd.Series(np.nan, index=regular().index)
    frame = opskit.detect(s, "auto")
    assert frame["is_anomaly"].isna().all()
    assert frame.attrs["regularised"]["missing_values"] == len(s)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        # a repeated hour in arrival order: the clock goes back, so the rows are unsorted
        (pd.Series(_values(_local_times()), index=_local_times()), "sorted"),
        (pd.Series(["high"] * 10, index=pd.date_range("2024", periods=10, freq="h")), "numeric"),
    ],
    ids=["unsorted-repeated-hour", "text"],
)
def test_bad_input_still_raises_a_clear_error(data, match):
    with pytest.raises(ValueError, match=match):
        opskit.detect(data, "auto")
