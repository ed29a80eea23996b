"""Retries are bounded, honour Retry-After / vendor reset headers, and the client rate-limits itself."""

from __future__ import annotations

import itertools

import pytest
from connector_support import T0, FakeClock

from opskit.connectors import fakes
from opskit.connectors._paging import TokenBucket
from opskit.connectors._responses import parse_reset_header, parse_retry_after
from opskit.errors import AuthError, RateLimitError, UnavailableError
from opskit.schemas import Problems, validate


def gaps(calls):
    return [b.at - a.at for a, b in itertools.pairwise(calls)]


def test_dynatrace_429_waits_retry_after_before_the_next_request(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, retry_after_s=7).queue("problems", 429, 429)
    with dynatrace(fake, requests_per_second=1000) as dt:
        df = dt.fetch_problems(start="now-7d")
    calls = fake.calls("problems")
    assert [c.status for c in calls[:3]] == [429, 429, 200]
    assert gaps(calls[:3]) == [pytest.approx(7.0, abs=0.01)] * 2
    validate(df, Problems)


def test_dynatrace_429_without_retry_after_uses_reset_header_in_microseconds(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, reset_in_s=3.0).queue("problems", "429_no_retry_after")
    with dynatrace(fake, requests_per_second=1000) as dt:
        dt.fetch_problems(start="now-1d")
    assert gaps(fake.calls("problems")[:2]) == [pytest.approx(3.0, abs=0.01)]


def test_jira_429_without_retry_after_uses_iso_reset_header(jira, clock):
    fake = fakes.jira(clock=clock, reset_in_s=5.0).queue("search_jql", "429_reset_only")
    with jira(fake, requests_per_second=1000) as j:
        j.search('project = "OPS"')
    assert gaps(fake.calls("search_jql")[:2]) == [pytest.approx(5.0, abs=0.01)]


def test_429_without_any_hint_backs_off_exponentially_with_jitter(conviva, clock):
    fake = fakes.conviva(clock=clock).queue("metrics", 429, 429, 429)
    with conviva(fake, requests_per_second=1000) as cv:
        cv.fetch_qoe(start="2024-05-30", end="2024-05-31")
    waits = clock.sleeps
    assert len(waits) == 3
    assert 1.0 <= waits[0] <= 2.0 and 2.0 <= waits[1] <= 3.0 and 4.0 <= waits[2] <= 5.0


def test_persistent_429_raises_rate_limit_error_after_bounded_retries(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, retry_after_s=2).queue("problems", *[429] * 10)
    with (
        dynatrace(fake, max_retries=3, requests_per_second=1000) as dt,
        pytest.raises(RateLimitError) as info,
    ):
        dt.fetch_problems()
    assert info.value.retry_after == pytest.approx(2.0)
    assert info.value.status_code == 429
    assert len(fake.calls("problems")) == 4


def test_retry_after_beyond_the_cap_is_not_slept_through(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, retry_after_s=3600).queue("problems", 429)
    with dynatrace(fake, requests_per_second=1000) as dt, pytest.raises(RateLimitError) as info:
        dt.fetch_problems()
    assert info.value.retry_after == pytest.approx(3600)
    assert clock.sleeps == [] and len(fake.calls("problems")) == 1


@pytest.mark.parametrize("fault", ["html", 503, 504, "timeout", "reset"])
def test_transient_failures_are_retried_then_succeed(dynatrace, clock, fault):
    fake = fakes.dynatrace(clock=clock).queue("problems", fault, fault)
    with dynatrace(fake, requests_per_second=1000) as dt:
        df = dt.fetch_problems(start="now-1d")
    assert len(df) > 0
    assert len(clock.sleeps) == 2


def test_5xx_html_retried_then_unavailable_error(newrelic, clock):
    fake = fakes.newrelic(clock=clock).queue("graphql", *["html"] * 5)
    with (
        newrelic(fake, max_retries=2, requests_per_second=1000) as nr,
        pytest.raises(UnavailableError) as info,
    ):
        nr.nrql("SELECT count(*) FROM Transaction SINCE 1 hour ago")
    assert info.value.status_code == 502
    assert "Bad Gateway" in str(info.value)
    assert len(fake.calls("graphql")) == 3


def test_500_is_not_retried(jira, clock):
    fake = fakes.jira(clock=clock).queue("search_jql", 500)
    with jira(fake) as j, pytest.raises(UnavailableError):
        j.search('project = "OPS"')
    assert len(fake.calls("search_jql")) == 1


def test_401_is_not_retried_and_names_the_setting(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock)
    with dynatrace(fake, api_token="dt0c01.WRONG") as dt, pytest.raises(AuthError) as info:
        dt.fetch_problems()
    assert "OPSKIT_DYNATRACE__API_TOKEN" in str(info.value)
    assert "Token Authentication failed" in str(info.value)
    assert len(fake.requests) == 1 and clock.sleeps == []


def test_client_side_rate_limit_spaces_requests(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, n_problems=60)
    with dynatrace(fake, page_size=5, requests_per_second=2.0) as dt:
        dt.fetch_problems(start="now-7d")
    calls = fake.calls("problems")
    assert len(calls) > 6
    # burst of 2, then one request every 0.5 s
    assert all(g >= 0.5 - 1e-9 for g in gaps(calls)[2:])


def test_token_bucket_allows_a_burst_then_paces():
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=2, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits == [0.0, 0.0, 0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (str(int((T0 + 4) * 1_000_000)), 4.0),  # Dynatrace: epoch microseconds
        (str(int((T0 + 4) * 1000)), 4.0),  # epoch milliseconds
        (str(int(T0 + 4)), 4.0),  # epoch seconds
        ("2024-06-01T00:00:04Z", 4.0),  # Jira: ISO-8601
        ("2024-06-01T00:01Z", 60.0),  # Jira: minute precision
        ("12", 12.0),  # a small number is a delta
        ("garbage", None),
        (None, None),
    ],
)
def test_reset_header_formats(value, expected):
    got = parse_reset_header(value, now=T0)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("5", now=T0) == 5.0
    assert parse_retry_after("Sat, 01 Jun 2024 00:00:10 GMT", now=T0) == pytest.approx(10.0)
    assert parse_retry_after("soon", now=T0) is None


def test_undecodable_body_is_a_response_error(dynatrace, clock):
    import httpx

    from opskit.errors import ResponseError

    body = httpx.ByteStream(b"\x1f\x8bnot-gzip")
    broken = httpx.Response(200, stream=body, headers={"Content-Encoding": "gzip"})
    fake = fakes.dynatrace(clock=clock).queue("problems", broken)
    with dynatrace(fake) as dt, pytest.raises(ResponseError, match="unreadable"):
        dt.fetch_problems()
