"""Wall-clock limits: ``timeout_s`` per request and ``deadline_s`` per pull, whatever the server does.

The trickling servers are real sockets on 127.0.0.1 that send a few bytes at a
time, so no per-read timeout ever fires; only the wall-clock limits stop them.
"""

from __future__ import annotations

import time

import pytest
from connector_support import served

from opskit.connectors import JiraConnector, NewRelicConnector, fakes
from opskit.errors import UnavailableError

#: Allowed overshoot of a wall-clock limit (the issue asks for 10 %).
TOLERANCE = 0.10
SLOW = fakes.Trickle(chunk=16, interval_s=0.05)


def _timed(call):
    started = time.monotonic()
    with pytest.raises(UnavailableError) as info:
        call()
    return time.monotonic() - started, info.value


def _jira(url: str, **kw) -> JiraConnector:
    """A Jira connector with real time (real sleeps) against a loopback fake."""
    kw.setdefault("progress", False)
    return JiraConnector(base_url=url, api_token=fakes.JIRA_TOKEN, email=fakes.JIRA_EMAIL, **kw)


def test_a_trickled_body_is_cut_at_timeout_s():
    fake = fakes.jira().queue("search_jql", SLOW)
    with served(fake) as url, _jira(url, timeout_s=1.0, max_retries=0) as j:
        elapsed, err = _timed(lambda: j.search('project = "OPS"'))
    assert 1.0 <= elapsed <= 1.0 * (1 + TOLERANCE), elapsed
    assert "OPSKIT_JIRA__TIMEOUT_S" in str(err) and "wall-clock" in str(err)
    assert len(fake.calls("search_jql")) == 1


def test_trickled_status_line_and_headers_are_cut_at_timeout_s():
    fake = fakes.jira().queue("search_jql", fakes.Trickle(chunk=2, interval_s=0.1, headers=True))
    with served(fake) as url, _jira(url, timeout_s=1.0, max_retries=0) as j:
        elapsed, err = _timed(lambda: j.search('project = "OPS"'))
    assert 1.0 <= elapsed <= 1.0 * (1 + TOLERANCE), elapsed
    assert "OPSKIT_JIRA__TIMEOUT_S" in str(err)


def test_deadline_s_bounds_a_multi_page_pull():
    fake = fakes.jira(n_issues=300).queue("search_jql", lambda request: None, *[SLOW] * 6)
    with served(fake) as url, _jira(url, timeout_s=10, deadline_s=1.5, max_retries=0) as j:
        elapsed, err = _timed(lambda: j.fetch_issues(projects=["OPS", "PLAY"]))
    assert 1.5 <= elapsed <= 1.5 * (1 + TOLERANCE), elapsed
    assert "deadline" in str(err) and "OPSKIT_JIRA__DEADLINE_S" in str(err)
    assert len(fake.calls("search_jql")) == 2  # page 1 arrived, page 2 was cut off


def test_deadline_s_counts_retry_waits_and_cuts_the_last_attempt():
    fake = fakes.jira(retry_after_s=1).queue("search_jql", 503, SLOW)
    with served(fake) as url, _jira(url, timeout_s=10, deadline_s=1.5, max_retries=3) as j:
        elapsed, err = _timed(lambda: j.search('project = "OPS"'))
    assert 1.5 <= elapsed <= 1.5 * (1 + TOLERANCE), elapsed
    assert "OPSKIT_JIRA__DEADLINE_S" in str(err)
    assert [c.status for c in fake.calls("search_jql")] == [503, 200]


def test_new_relic_honours_timeout_s_instead_of_forcing_75_s():
    fake = fakes.newrelic().queue("graphql", SLOW)
    with (
        served(fake) as url,
        NewRelicConnector(
            api_key=fakes.NEWRELIC_KEY,
            account_id=fakes.NEWRELIC_ACCOUNT,
            endpoint=f"{url}/graphql",
            timeout_s=1.0,
            max_retries=0,
            progress=False,
        ) as nr,
    ):
        elapsed, err = _timed(
            lambda: nr.fetch_apm(
                ["playback-api"], start="2024-05-31T00:00Z", end="2024-05-31T01:00Z"
            )
        )
    assert 1.0 <= elapsed <= 1.0 * (1 + TOLERANCE), elapsed
    assert "OPSKIT_NEWRELIC__TIMEOUT_S" in str(err)
    assert fake.calls("graphql")[0].body["variables"]["timeout"] == 1  # NRQL fits inside


def test_a_retry_that_would_pass_the_deadline_is_not_slept_through(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, retry_after_s=30).queue("problems", 429)
    with dynatrace(fake, deadline_s=10) as dt, pytest.raises(UnavailableError) as info:
        dt.fetch_problems()
    assert clock.sleeps == [] and len(fake.calls("problems")) == 1
    assert "OPSKIT_DYNATRACE__DEADLINE_S" in str(info.value) and "429" in str(info.value)
    assert info.value.status_code == 429


def test_injected_sleeps_spend_the_pull_budget(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock, retry_after_s=4).queue("problems", *[429] * 6)
    with (
        dynatrace(fake, deadline_s=10, max_retries=8, requests_per_second=1000) as dt,
        pytest.raises(UnavailableError, match="deadline"),
    ):
        dt.fetch_problems()
    assert clock.sleeps == [4.0, 4.0] and len(fake.calls("problems")) == 3


def test_in_process_transports_get_the_chunked_body_check(jira, clock):
    fake = fakes.jira(clock=clock).queue("search_jql", SLOW)
    with jira(fake, timeout_s=0.5, max_retries=0) as j:
        elapsed, err = _timed(lambda: j.search('project = "OPS"'))
    assert 0.5 <= elapsed <= 0.5 * (1 + TOLERANCE) + 0.05, elapsed  # one chunk interval late
    assert "OPSKIT_JIRA__TIMEOUT_S" in str(err)


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="deadline_s"):
        JiraConnector(base_url="https://j.invalid", api_token="t", deadline_s=0)
