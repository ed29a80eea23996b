"""AnomalyFrame shape, provenance, severity, grouped detection and the chart."""

from __future__ import annotations

from datetime import UTC, datetime

import altair as alt
import numpy as np
import pandas as pd
import pytest

from opskit import provenance
from opskit.analytics.anomaly import AnomalyFrameSchema, detect, p_from_score, score_from_p
from opskit.analytics.anomaly.chart import anomaly_chart

COLUMNS = [
    "timestamp",
    "value",
    "score",
    "is_anomaly",
    "detector",
    "severity",
    "expected",
    "lower",
    "upper",
]


def _series(n: int = 400, seed: int = 0) -> pd.Series:
    x = np.random.default_rng(seed).normal(size=n)
    x[300] = 15.0
    return pd.Series(x, index=pd.date_range("2024-01-01", periods=n, freq="5min"))


def _demo() -> provenance.Provenance:
    return provenance.Provenance(
        kind="demo", systems=("warehouse",), as_of=datetime(2024, 1, 1, tzinfo=UTC)
    )


def test_frame_has_documented_columns_and_validates():
    frame = detect(_series(), "zscore")
    assert list(frame.columns) == COLUMNS
    AnomalyFrameSchema.validate(frame)
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["is_anomaly"].dtype == "boolean"
    assert frame.loc[300, "severity"] in {"medium", "high", "critical"}
    assert frame.loc[300, "value"] > frame.loc[300, "upper"]


def test_band_matches_threshold_for_point_detectors():
    frame = detect(_series(), "zscore").dropna(subset=["score"])
    outside = (frame["value"] > frame["upper"]) | (frame["value"] < frame["lower"])
    assert (outside == frame["is_anomaly"].astype(bool)).all()


def test_provenance_is_copied_when_the_input_has_it():
    s = _series()
    s.attrs["provenance"] = _demo().to_dict()
    frame = detect(s, "mad")
    assert provenance.of(frame).kind == "demo"
    assert (frame["provenance"] == "demo").all()
    AnomalyFrameSchema.validate(frame)


def test_no_provenance_column_when_the_input_has_none():
    frame = detect(_series(), "mad")
    assert "provenance" not in frame.columns
    assert "provenance" not in frame.attrs


def test_long_frame_is_detected_per_group_with_keys_first():
    parts = []
    for i, (entity, metric) in enumerate(
        [("api", "latency"), ("api", "errors"), ("cdn", "latency")]
    ):
        s = _series(seed=i)
        parts.append(
            pd.DataFrame(
                {"timestamp": s.index, "entity": entity, "metric": metric, "value": s.values}
            )
        )
    long = pd.concat(parts, ignore_index=True)
    provenance.attach(long, _demo())
    frame = detect(long, "zscore", window=100)
    assert list(frame.columns[:2]) == ["entity", "metric"]
    assert len(frame) == len(long)
    flagged = frame[frame["is_anomaly"].fillna(False).astype(bool)]
    assert sorted(flagged.groupby(["entity", "metric"]).size().index) == [
        ("api", "errors"),
        ("api", "latency"),
        ("cdn", "latency"),
    ]
    assert (frame["provenance"] == "demo").all()


def test_score_map_landmarks():
    assert score_from_p(1e-4) == pytest.approx(0.5)
    assert p_from_score(score_from_p(1e-9)) == pytest.approx(1e-9)


def test_chart_has_band_line_and_points_layers():
    chart = anomaly_chart(detect(_series(), "zscore"))
    assert isinstance(chart, alt.LayerChart)
    marks = [layer["mark"]["type"] for layer in chart.to_dict()["layer"]]
    assert marks == ["area", "line", "point"]


def test_chart_rejects_frames_that_are_not_anomaly_frames():
    with pytest.raises(ValueError, match="AnomalyFrame"):
        anomaly_chart(pd.DataFrame({"x": [1]}))
