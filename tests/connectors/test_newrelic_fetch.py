"""New Relic NerdGraph: shaped frames, window splitting, GraphQL errors, NRQL safety."""

from __future__ import annotations

import pytest

from opskit.connectors import fakes, nrql_quote
from opskit.connectors.fakes._newrelic import NrqlSyntaxError, parse_nrql
from opskit.connectors.newrelic import EU_ENDPOINT, NewRelicConnector
from opskit.errors import AuthError, ResponseError, UnavailableError
from opskit.schemas import ApmHealth, validate

METRICS = {"throughput_rpm", "latency_p50_ms", "latency_p95_ms", "error_rate", "apdex"}


def test_apm_frame_has_every_metric_bucket_and_service(newrelic, clock):
    fake = fakes.newrelic(clock=clock)
    with newrelic(fake) as nr:
        df = nr.fetch_apm(
            ["playback-api", "auth-svc"],
            start="2024-05-31T00:00Z",
            end="2024-05-31T02:00Z",
            bucket="5min",
        )
    validate(df, ApmHealth)
    assert set(df["metric"]) == METRICS and set(df["entity"]) == {"playback-api", "auth-svc"}
    assert len(df) == 2 * 24 * 5
    assert df.loc[df["metric"] == "error_rate", "value"].between(0, 0.02).all()
    assert df.loc[df["metric"] == "apdex", "value"].between(0.85, 1).all()  # object and bare number
    assert (
        df.loc[df["metric"] == "latency_p95_ms", "value"].dropna() >= 200
    ).all()  # seconds -> ms
    nrql = fake.calls("graphql")[0].body["variables"]["nrql"]
    assert "FACET appName" in nrql and "TIMESERIES 5 minutes" in nrql and "LIMIT 2" in nrql


def test_null_values_become_nan(newrelic, clock):
    with newrelic(fakes.newrelic(clock=clock, null_rate=0.5)) as nr:
        df = nr.fetch_apm(
            ["playback-api"], start="2024-05-31T00:00Z", end="2024-05-31T01:00Z", bucket="1min"
        )
    assert df.loc[df["metric"] == "latency_p50_ms", "value"].isna().any()


def test_long_pulls_are_split_into_366_bucket_windows(newrelic, clock):
    fake = fakes.newrelic(clock=clock)
    with newrelic(fake, requests_per_second=1000) as nr:
        df = nr.fetch_apm(
            ["playback-api"], start="2024-05-28T00:00Z", end="2024-05-31T00:00Z", bucket="1min"
        )
    assert len(fake.calls("graphql")) == 12  # 4320 buckets / 366
    stamps = df.loc[df["metric"] == "apdex", "timestamp"]
    assert stamps.is_unique and len(stamps) == 4320


def test_host_metrics_and_error_counts(newrelic, clock):
    with newrelic(fakes.newrelic(clock=clock)) as nr:
        hosts = nr.fetch_host_metrics(start="2024-05-31T00:00Z", end="2024-05-31T01:00Z")
        errors = nr.fetch_errors(
            ["playback-api"], start="2024-05-31T00:00Z", end="2024-05-31T01:00Z"
        )
    validate(hosts, ApmHealth), validate(errors, ApmHealth)
    assert set(hosts["metric"]) == {"cpu_pct", "mem_pct"} and hosts["entity"].nunique() == 6
    assert set(errors["metric"]) == {"error_count"}


def test_graphql_timeout_is_retried_with_a_larger_timeout(newrelic, clock):
    fake = fakes.newrelic(clock=clock, timeout_below_s=200)
    with newrelic(fake, timeout_s=300) as nr:
        nr.fetch_apm(["playback-api"], start="2024-05-31T00:00Z", end="2024-05-31T01:00Z")
    assert [c.body["variables"]["timeout"] for c in fake.calls("graphql")] == [60, 120, 240]


def test_nrql_timeout_is_derived_from_timeout_s_and_never_exceeds_it(newrelic, clock):
    fake = fakes.newrelic(clock=clock, timeout_below_s=200)
    with newrelic(fake, timeout_s=10) as nr, pytest.raises(UnavailableError) as info:
        nr.nrql("SELECT count(*) FROM Transaction SINCE 1 week ago")
    assert [c.body["variables"]["timeout"] for c in fake.calls("graphql")] == [8]
    assert "OPSKIT_NEWRELIC__TIMEOUT_S" in str(info.value)
    fake = fakes.newrelic(clock=clock)
    with newrelic(fake) as nr:  # default: 75 s per request, NRQL starts at 60 s
        nr.fetch_apm(["playback-api"], start="2024-05-31T00:00Z", end="2024-05-31T01:00Z")
    assert nr.timeout_s == 75 and fake.calls("graphql")[0].body["variables"]["timeout"] == 60
    with pytest.raises(ValueError, match="nrql_timeout_s"):
        newrelic(fakes.newrelic(clock=clock), timeout_s=10, nrql_timeout_s=60)


def test_persistent_graphql_timeout_is_unavailable(newrelic, clock):
    fake = fakes.newrelic(clock=clock).queue("graphql", "nr_timeout", "nr_timeout", "nr_timeout")
    with newrelic(fake) as nr, pytest.raises(UnavailableError, match="timed out"):
        nr.nrql("SELECT count(*) FROM Transaction SINCE 1 hour ago")


def test_other_graphql_errors_on_200_are_fatal(newrelic, clock):
    fake = fakes.newrelic(clock=clock)
    with newrelic(fake) as nr, pytest.raises(ResponseError, match="NRQL Syntax Error"):
        nr.nrql("SELEKT nonsense")
    assert len(fake.calls("graphql")) == 1


def test_missing_results_is_a_response_error(newrelic, clock):
    fake = fakes.newrelic(clock=clock).queue("graphql", "no_results")
    with newrelic(fake) as nr, pytest.raises(ResponseError, match="results"):
        nr.nrql("SELECT 1 FROM Transaction")


def test_bad_api_key_is_an_auth_error_naming_the_user_key(newrelic, clock):
    with (
        newrelic(fakes.newrelic(clock=clock), api_key="NRAK-WRONG") as nr,
        pytest.raises(AuthError) as info,
    ):
        nr.nrql("SELECT 1 FROM Transaction")
    assert "Bad API Key" in str(info.value) and "User key" in str(info.value)


def test_raw_nrql_returns_rows(newrelic, clock):
    q = "SELECT count(*) FROM Transaction SINCE 1 hour ago"
    with newrelic(fakes.newrelic(clock=clock, canned={q: [{"count": 42}]})) as nr:
        assert nr.nrql(q) == [{"count": 42}]


INJECTIONS = ["x' OR appName LIKE '%", "a\\' OR 1=1 --", "it's", "back\\slash", "`tick`"]


@pytest.mark.parametrize("name", INJECTIONS)
def test_nrql_quote_round_trips_through_a_strict_parser(name):
    q = parse_nrql(
        f"SELECT count(*) FROM Transaction WHERE appName IN ({nrql_quote(name)}) SINCE 1 UNTIL 2"
    )
    assert q["where"] == ("appName", [name])


@pytest.mark.parametrize("name", INJECTIONS)
def test_injection_through_service_names_is_neutralised(newrelic, clock, name):
    fake = fakes.newrelic(clock=clock)
    with newrelic(fake) as nr:
        df = nr.fetch_apm(
            [name, "playback-api"], start="2024-05-31T00:00Z", end="2024-05-31T01:00Z"
        )
    assert set(df["entity"]) == {"playback-api"}


def test_naive_interpolation_would_have_been_caught_by_the_fake():
    with pytest.raises(NrqlSyntaxError):
        parse_nrql(
            "SELECT count(*) FROM Transaction WHERE appName IN ('x' OR appName LIKE '%') SINCE 1 UNTIL 2"
        )


def test_nrql_quote_rejects_control_characters():
    with pytest.raises(ValueError):
        nrql_quote("a\nb")


def test_region_picks_the_endpoint():
    with NewRelicConnector(api_key="NRAK-x", account_id=1, region="eu") as nr:
        assert nr.base_url.startswith(EU_ENDPOINT.removesuffix("/graphql"))
    with pytest.raises(ValueError):
        NewRelicConnector(api_key="NRAK-x", account_id=1, region="apac")
