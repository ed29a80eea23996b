"""The same fakes served by a real HTTP server on 127.0.0.1: real sockets, real parsing."""

from __future__ import annotations

import pytest
from connector_support import served

from opskit.connectors import fakes
from opskit.errors import AuthError
from opskit.schemas import ApmHealth, Problems, ProductionIssues, StreamingQoe, validate


def test_newrelic_over_loopback(newrelic, clock):
    fake = fakes.newrelic(clock=clock)
    with served(fake) as url, newrelic(fake, base_url=url) as nr:
        df = nr.fetch_apm(["playback-api"], start="2024-05-31T00:00Z", end="2024-05-31T01:00Z")
    validate(df, ApmHealth)
    assert url.startswith("http://127.0.0.1:") and len(df) == 12 * 5


def test_dynatrace_pagination_and_faults_over_loopback(dynatrace, clock):
    fake = fakes.dynatrace(clock=clock).queue("problems", "reset", 429)
    with served(fake) as url, dynatrace(fake, base_url=url + "/e/abc12345", page_size=25) as dt:
        df = dt.fetch_problems(start="now-7d")
    validate(df, Problems)
    assert df["problem_id"].is_unique and len(df) > 25
    assert fake.calls("problems")[0].path.startswith("/e/abc12345/api/v2/")
    assert len(clock.sleeps) >= 2


def test_jira_cloud_over_loopback(jira, clock):
    fake = fakes.jira(clock=clock, n_issues=160)
    with served(fake) as url, jira(fake, base_url=url) as j:
        df = j.fetch_issues(projects=["OPS", "PLAY"])
    validate(df, ProductionIssues)
    assert len(df) == 160


def test_jira_datacenter_auth_failure_over_loopback(jira, clock):
    fake = fakes.jira(clock=clock, mode="datacenter")
    with served(fake) as url, jira(fake, base_url=url, api_token="bad", email="") as j:
        with pytest.raises(AuthError):
            j.fetch_issues(projects=["OPS"])
        assert j.check()["ok"] is False


def test_confluence_over_loopback(confluence, clock):
    fake = fakes.confluence(clock=clock)
    with served(fake) as url, confluence(fake, base_url=url) as wiki:
        assert wiki.publish_page(title="T", body="<p>x</p>")["action"] == "created"
        assert wiki.publish_page(title="T", body="<p>y</p>")["version"] == 2


def test_conviva_over_loopback(conviva, clock):
    fake = fakes.conviva(clock=clock)
    with served(fake) as url, conviva(fake, base_url=url) as cv:
        df = cv.fetch_qoe(start="2024-05-30", end="2024-05-31", by="device")
    validate(df, StreamingQoe)
    assert len(df) == 24 * 4
