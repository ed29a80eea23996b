"""The ensemble finds the anomalies planted in the demo warehouse (``demo_truth``).

Measured on the session's test warehouse (seed 7, scale 0.05; 12 services x 5 metrics x
7 days at 1 minute, 24 planted APM anomalies), alerting at score >= 0.6 (severity
``high``: a component at its cap, or a new range), after a one-day learning period (the
generator plants nothing in the first day; NAB likewise ignores a probationary period),
10 minutes of grace after an event:

* recall per shape: spike 13/14, error_burst 5/5, outage 4/4, level_shift 1/1;
* precision: 0.47 of alert runs (on any metric of the service) overlap a planted window.

QoE (hourly, plays-weighted per CDN, ~5-10 plays per CDN-hour at this scale): 4 of the 6
CDN-wide incidents are flagged at the default threshold; regional ones are diluted in the
CDN-wide aggregate and not expected.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from opskit import catalog
from opskit.analytics.anomaly import detect
from opskit.analytics.anomaly.evaluate import event_scores
from opskit.warehouse import Warehouse

ALERT_THRESHOLD = 0.6
LEARNING = pd.Timedelta("1D")
GRACE = pd.Timedelta("10min")


@pytest.fixture(scope="module")
def truth(demo_path: Path) -> pd.DataFrame:
    return Warehouse(f"duckdb://{demo_path}").table("demo_truth").to_pandas()


@pytest.fixture(scope="module")
def apm_result(demo_env, truth):
    data = catalog.load("apm_health", start="2000-01-01", resolution="1min")
    frame = detect(data, threshold=ALERT_THRESHOLD)
    frame = frame[frame["timestamp"] >= frame["timestamp"].min() + LEARNING]
    events = truth[truth["kind"] == "apm_anomaly"].rename(
        columns={"subject": "entity", "detail": "metric", "name": "shape"}
    )
    return event_scores(
        frame,
        events,
        on=["entity", "metric"],
        precision_on=["entity"],
        series=["entity", "metric"],
        tolerance=GRACE,
    )


def test_demo_has_planted_apm_anomalies(apm_result):
    assert apm_result.n_events >= 10
    assert set(apm_result.events["shape"]) >= {"spike", "error_burst", "outage"}


@pytest.mark.parametrize(
    ("shape", "minimum"), [("spike", 0.8), ("error_burst", 0.8), ("outage", 0.8)]
)
def test_planted_apm_anomalies_are_recalled(apm_result, shape, minimum):
    found = apm_result.events.loc[apm_result.events["shape"] == shape, "found"]
    if found.empty:
        pytest.skip(f"no {shape} planted at this seed")
    assert found.mean() >= minimum, apm_result.events.loc[~apm_result.events["found"]]


def test_level_shifts_are_found(apm_result):
    found = apm_result.events.loc[apm_result.events["shape"] == "level_shift", "found"]
    assert found.all()


def test_apm_alerts_are_mostly_planted_incidents(apm_result):
    assert apm_result.recall >= 0.9
    assert apm_result.precision >= 0.4, apm_result.alerts.loc[~apm_result.alerts["true_alert"]]


def test_apm_alerts_come_early(apm_result):
    found = apm_result.events[apm_result.events["found"]]
    assert (found["delay"] <= pd.Timedelta("5min")).mean() >= 0.8


def test_cdn_wide_qoe_incidents_are_found(demo_env, truth):
    qoe = catalog.load("streaming_qoe", start="2000-01-01")
    weighted = qoe.assign(
        rebuffering_ratio=qoe["rebuffering_ratio"].fillna(0.0) * qoe["plays"],
        video_start_failure_rate=qoe["video_start_failure_rate"] * qoe["plays"],
    )
    hourly = weighted.groupby(["cdn", "timestamp"], as_index=False)[
        ["plays", "rebuffering_ratio", "video_start_failure_rate"]
    ].sum()
    for col in ("rebuffering_ratio", "video_start_failure_rate"):
        hourly[col] = hourly[col] / hourly["plays"]
    long = hourly.melt(
        id_vars=["cdn", "timestamp"],
        value_vars=["rebuffering_ratio", "video_start_failure_rate"],
        var_name="metric",
    )
    frame = detect(long, by=["cdn", "metric"])
    incidents = truth[truth["kind"] == "qoe_incident"].rename(
        columns={"subject": "cdn", "detail": "region"}
    )
    wide = incidents[incidents["region"] == "all"]
    scores = event_scores(frame, wide, on=["cdn"], series=["cdn", "metric"], tolerance="1h")
    assert scores.n_events >= 3
    assert scores.recall >= 0.5, scores.events
