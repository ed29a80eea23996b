"""Conviva Metrics V3: time-range rules, dimensions, units, and errors."""

from __future__ import annotations

import pytest

from opskit import provenance
from opskit.connectors import fakes
from opskit.connectors.conviva import METRICS
from opskit.errors import AuthError, ConnectorError, ResponseError
from opskit.schemas import StreamingQoe, validate


def test_unsplit_and_split_frames(conviva, clock):
    fake = fakes.conviva(clock=clock)
    with conviva(fake) as cv:
        total = cv.fetch_qoe(start="2024-05-30", end="2024-05-31")
        by_cdn = cv.fetch_qoe(start="2024-05-30", end="2024-05-31", by="cdn")
        by_device = cv.fetch_qoe(start="2024-05-30", end="2024-05-31", by="device")
    for df in (total, by_cdn, by_device):
        validate(df, StreamingQoe)
    assert len(total) == 24 and set(total["cdn"]) == {"all"} and set(total["device"]) == {"all"}
    assert set(by_cdn["cdn"]) == {"Akamai", "Fastly", "CloudFront"} and set(by_cdn["device"]) == {
        "all"
    }
    assert set(by_device["cdn"]) == {"all"} and "Roku" in set(by_device["device"])
    assert total["rebuffering_ratio"].between(0.002, 0.008).all()  # percent -> fraction
    assert total["avg_bitrate_kbps"].between(4000, 6000).all()  # bps -> kbps
    assert total["startup_time_ms"].dropna().between(1200, 2200).all()  # s -> ms
    first = fake.calls("metrics")[0]
    assert first.method == "GET" and first.path == "/insights/3.0/metrics/custom-selection"
    assert [v for k, v in first.params if k == "metric"] == list(METRICS)
    assert (
        first.param("start_date") == "2024-05-30T00:00:00Z"
        and first.param("end_date") == "2024-05-31T00:00:00Z"
    )
    assert fake.calls("group")[0].path.endswith("/group-by/cdn")


def test_ranges_longer_than_90_days_are_split(conviva, clock):
    fake = fakes.conviva(clock=clock)
    with conviva(fake) as cv:
        df = cv.fetch_qoe(start="2024-01-01", end="2024-05-01", granularity="P1D")
    calls = fake.calls("metrics")
    assert len(calls) == 2 and all(c.status == 200 for c in calls)
    assert df["timestamp"].is_unique and len(df) == 121


def test_start_older_than_13_months_is_refused_client_side(conviva, clock):
    with conviva(fakes.conviva(clock=clock)) as cv, pytest.raises(ValueError, match="13 months"):
        cv.fetch_qoe(start="2022-01-01", end="2022-01-02")


def test_filters_repeat_keys_and_reserved_names_are_refused(conviva, clock):
    fake = fakes.conviva(clock=clock)
    with conviva(fake) as cv:
        cv.fetch_qoe(
            start="2024-05-30", end="2024-05-31", filters={"device_os": ["Android", "iOS"]}
        )
        with pytest.raises(ValueError):
            cv.fetch_qoe(start="2024-05-30", end="2024-05-31", filters={"days": "90"})
        with pytest.raises(ValueError):
            cv.fetch_qoe(start="2024-05-30", end="2024-05-31", filters={"isp": "x"}, filter_id="7")
    assert [v for k, v in fake.calls("metrics")[0].params if k == "device_os"] == ["Android", "iOS"]


def test_missing_sub_keys_and_nulls_become_nan(conviva, clock):
    fake = fakes.conviva(clock=clock).queue("metrics", "missing_subkeys")
    with conviva(fake) as cv:
        df = cv.fetch_qoe(start="2024-05-31T15:00Z", end="2024-05-31T16:00Z")
    validate(df, StreamingQoe)
    assert df["plays"].tolist() == [10]
    assert df[["rebuffering_ratio", "avg_bitrate_kbps", "startup_time_ms"]].isna().all().all()


def test_oversize_and_validation_errors_are_typed(conviva, clock):
    fake = fakes.conviva(clock=clock).queue("metrics", "oversize")
    with conviva(fake) as cv, pytest.raises(ConnectorError) as info:
        cv.fetch_qoe(start="2024-05-30", end="2024-05-31")
    assert info.value.status_code == 413 and "narrow" in str(info.value)


def test_wrong_secret_is_an_auth_error(conviva, clock):
    with (
        conviva(fakes.conviva(clock=clock), client_secret="nope") as cv,
        pytest.raises(AuthError, match="CLIENT_SECRET"),
    ):
        cv.fetch_qoe(start="2024-05-30", end="2024-05-31")


@pytest.mark.parametrize("fault", ["no_series", "html_200", "empty"])
def test_a_200_without_a_time_series_is_a_response_error_not_an_empty_frame(conviva, clock, fault):
    fake = fakes.conviva(clock=clock).queue("metrics", fault)
    with conviva(fake) as cv, pytest.raises(ResponseError) as info:
        cv.fetch_qoe(start="2024-05-30", end="2024-05-31")
    assert info.value.status_code == 200


def test_an_object_without_time_series_names_what_it_got(conviva, clock):
    fake = fakes.conviva(clock=clock).queue("metrics", "no_series")
    with (
        conviva(fake) as cv,
        pytest.raises(ResponseError, match=r"no time_series list \(keys: status\)"),
    ):
        cv.fetch_qoe(start="2024-05-30", end="2024-05-31")


def test_an_empty_time_series_is_a_logged_visible_no_data_result(conviva, clock, caplog):
    fake = fakes.conviva(clock=clock).queue("metrics", "no_data")
    with conviva(fake) as cv:
        df = cv.fetch_qoe(start="2024-05-30", end="2024-05-31")
    validate(df, StreamingQoe)
    prov = provenance.of(df)
    assert df.empty and prov.kind == "live"
    assert (
        prov.detail
        == "Conviva reported no data for 1 of 1 windows: 2024-05-30T00:00Z..2024-05-31T00:00Z"
    )
    assert "no data" in caplog.text and "WARNING" in caplog.text


def test_windows_with_data_have_no_no_data_note(conviva, clock):
    with conviva(fakes.conviva(clock=clock)) as cv:
        df = cv.fetch_qoe(start="2024-01-01", end="2024-05-01", granularity="P1D")
    assert len(df) == 121 and "no data" not in provenance.of(df).detail
