"""Filters are validated before any query runs, with errors that name the valid choices."""

from __future__ import annotations

import pandas as pd
import pytest

from opskit.catalog import load
from opskit.config import Settings
from opskit.errors import DatasetError


@pytest.mark.parametrize(
    ("name", "filters", "message"),
    [
        (
            "churn_signal",
            {},
            r"unknown dataset 'churn_signal' \(did you mean 'churn_signals'\?\); valid datasets: churn_signals",
        ),
        (
            "problems",
            {"statuz": "OPEN"},
            r"no filter 'statuz' \(did you mean 'status'\?\); valid filters: start, end, status",
        ),
        (
            "problems",
            {"status": "OPN"},
            r"unknown value 'OPN' \(did you mean 'OPEN'\?\); valid values: OPEN, CLOSED",
        ),
        (
            "streaming_qoe",
            {"region": "atlantis"},
            r"valid values: brazil, canada, germany, india, uk, us",
        ),
        ("apm_health", {"service": ["playback-api", "nope"]}, r"unknown value 'nope'"),
        ("apm_health", {"start": "yesterday-ish"}, r"is not an ISO 8601 date; use YYYY-MM-DD"),
        (
            "apm_health",
            {"start": "2026-10-30", "end": "2026-10-01"},
            r"start .* must be before end",
        ),
        ("churn_signals", {"min_subscribers": "many"}, r"expected a number"),
        ("churn_signals", {"min_subscribers": 1.5}, r"expected a whole number"),
        ("pareto_analysis", {"target": 1.5}, r"out of range"),
        ("churn_signals", {"at_risk_only": "perhaps"}, r"expected true or false"),
        ("problems", {"status": ["OPEN", "CLOSED"]}, r"takes one value"),
    ],
)
def test_bad_requests_get_a_clear_error(
    name: str, filters: dict, message: str, settings: Settings
) -> None:
    with pytest.raises(DatasetError, match=message):
        load(name, settings=settings, **filters)


def test_region_filter_restricts_rows(settings: Settings) -> None:
    df = load("international_markets", settings=settings, region=["brazil", "india"])
    assert sorted(df["region"]) == ["brazil", "india"]


def test_service_metric_and_window_filters_restrict_apm_rows(settings: Settings) -> None:
    df = load(
        "apm_health", settings=settings, service="playback-api", metric=["error_rate", "apdex"],
        start="2026-10-30T00:00Z", end="2026-10-30T06:00Z",
    )  # fmt: skip
    assert set(df["entity"]) == {"playback-api"}
    assert set(df["metric"]) == {"error_rate", "apdex"}
    assert df["timestamp"].min() == pd.Timestamp("2026-10-30T00:00Z")
    assert df["timestamp"].max() == pd.Timestamp("2026-10-30T05:59Z")
    assert len(df) == 2 * 6 * 60


def test_resolution_buckets_apm_values(settings: Settings) -> None:
    fine = load("apm_health", settings=settings, service="drm-license", metric="throughput_rpm")
    coarse = load(
        "apm_health",
        settings=settings,
        service="drm-license",
        metric="throughput_rpm",
        resolution="1h",
    )
    assert len(coarse) == 24 and len(fine) == 24 * 60
    assert coarse["value"].mean() == pytest.approx(fine["value"].mean(), rel=1e-3)


def test_default_windows_end_at_the_data_as_of_time_not_today(settings: Settings) -> None:
    df = load("streaming_qoe", settings=settings)
    assert df["timestamp"].max() < pd.Timestamp("2026-11-01", tz="UTC")
    assert df["timestamp"].min() >= pd.Timestamp("2026-10-18", tz="UTC")


def test_cdn_and_granularity_filters(settings: Settings) -> None:
    df = load("streaming_qoe", settings=settings, cdn="akamai", granularity="day")
    assert set(df["cdn"]) == {"akamai"}
    assert (df["timestamp"] == df["timestamp"].dt.floor("D")).all()


def test_at_risk_only_returns_only_flagged_cohorts(settings: Settings) -> None:
    df = load("churn_signals", settings=settings, at_risk_only=True, min_subscribers=0)
    assert len(df) > 0 and df["is_at_risk"].all()
