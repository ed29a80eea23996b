"""Jira Cloud token pagination, Data Center startAt pagination, changelog, mapping, JQL safety."""

from __future__ import annotations

import pytest

from opskit.connectors import build_jql, fakes, jql_quote
from opskit.connectors.fakes._jql import JqlError, parse_jql
from opskit.errors import AuthError, ConnectorError
from opskit.schemas import ProductionIssues, validate

CUSTOM = {
    "cost_field": "customfield_10050",
    "show_field": "customfield_10060",
    "severity_field": "customfield_10070",
}


def test_cloud_pages_by_token_until_is_last_and_returns_each_issue_once(jira, clock):
    fake = fakes.jira(clock=clock, n_issues=430)
    with jira(fake, page_size=100) as j:
        issues = j.search('project in ("OPS", "PLAY") ORDER BY updated ASC')
    keys = [i["key"] for i in issues]
    assert len(keys) == 430 and len(set(keys)) == 430
    calls = fake.calls("search_jql")
    assert len(calls) == 9  # 12 fields requested -> the server caps pages at 50
    tokens = [c.body.get("nextPageToken") for c in calls]
    assert tokens[0] is None and len(set(tokens[1:])) == 8
    assert all("startAt" not in c.body for c in calls)


def test_cloud_fetch_issues_validates_and_maps_fields(jira, clock):
    fake = fakes.jira(clock=clock)
    with jira(fake, **CUSTOM) as j:
        df = j.fetch_issues(projects=["OPS", "PLAY"], since="2023-06-01")
    validate(df, ProductionIssues)
    assert len(df) == 250
    assert set(df["status"]) == {"open", "in_progress", "blocked", "in_review", "done"}
    assert set(df["priority"]) <= {"Highest", "High", "Medium", "Low", "Lowest"}
    assert df.loc[df["status"] == "done", "resolved"].notna().all()
    assert (df["reopen_count"] > 0).any()
    assert df["show"].str.startswith("Show-").all()
    assert (df["cost_overrun_usd"].dropna() >= 0).all()
    body = fake.calls("search_jql")[0].body
    assert {"customfield_10050", "customfield_10060", "customfield_10070"} <= set(body["fields"])


def test_reopen_counts_match_the_changelog(jira, clock):
    fake = fakes.jira(clock=clock, n_issues=120)
    with jira(fake) as j:
        df = j.fetch_issues(projects=["OPS", "PLAY"]).set_index("key")
        transitions = j.fetch_transitions(j.search('project in ("OPS", "PLAY")'))
    done = {"Done", "Closed"}
    reopened = transitions[
        transitions["from_status"].isin(done) & ~transitions["to_status"].isin(done)
    ]
    expected = reopened.groupby("key").size()
    assert (df.loc[expected.index, "reopen_count"] == expected).all()
    assert df["reopen_count"].sum() == expected.sum() > 0
    assert len(fake.calls("bulkfetch")) > 1  # token-paged


def test_datacenter_pages_by_start_at_and_trusts_the_echoed_max_results(jira, clock):
    fake = fakes.jira(clock=clock, mode="datacenter", n_issues=333, max_page=40)
    with jira(fake, api_token=fakes.JIRA_TOKEN, email="", page_size=100) as j:
        df = j.fetch_issues(projects=["OPS", "PLAY"])
    assert len(df) == 333 and df["key"].is_unique
    starts = [c.body["startAt"] for c in fake.calls("search")]
    assert starts == list(range(0, 333, 40))
    assert fake.calls("search")[0].headers["authorization"] == f"Bearer {fakes.JIRA_TOKEN}"
    assert (df["reopen_count"] > 0).any()  # from the embedded changelog, no extra calls
    assert not fake.calls("issue")


def test_removed_cloud_search_endpoint_gives_410(clock):
    fake = fakes.jira(clock=clock)
    import httpx

    with httpx.Client(transport=httpx.MockTransport(fake)) as client:
        r = client.post("https://j.invalid/rest/api/3/search", json={"jql": "project = OPS"})
    assert r.status_code == 410 and "CHANGE-2046" in r.text


def test_bad_jql_is_a_typed_error_with_the_vendor_message(jira, clock):
    with jira(fakes.jira(clock=clock)) as j, pytest.raises(ConnectorError) as info:
        j.search("project = OPS OR")
    assert info.value.status_code == 400 and "Error in the JQL Query" in str(info.value)


def test_captcha_lock_says_so(jira, clock):
    fake = fakes.jira(clock=clock, captcha_after=1)
    with jira(fake, api_token="wrong") as j:
        with pytest.raises(AuthError):
            j.search('project = "OPS"')
        with pytest.raises(AuthError, match="CAPTCHA"):
            j.search('project = "OPS"')


INJECTIONS = [
    'OPS" OR project = "SECRET',
    'OPS") OR ("1" = "1',
    "OPS\\",
    'OPS\\" OR key = "X',
    "O'PS",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_jql_quote_round_trips_through_a_strict_parser(value):
    clauses, _ = parse_jql(f"project = {jql_quote(value)}")
    assert len(clauses) == 1 and clauses[0].values == (value,)


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_through_filter_values_is_neutralised(jira, clock, value):
    fake = fakes.jira(clock=clock)
    with jira(fake) as j:
        df = j.fetch_issues(projects=[value], since="2023-01-01", with_changelog=False)
    assert df.empty
    assert fake.calls("search_jql")[0].status == 200


def test_naive_interpolation_would_have_been_caught_by_the_fake():
    with pytest.raises(JqlError):
        parse_jql('project = "OPS" OR project = "SECRET"')


def test_jql_quote_rejects_control_characters_and_non_strings():
    with pytest.raises(ValueError):
        jql_quote("OPS\nORDER BY key")
    with pytest.raises(TypeError):
        jql_quote(42)  # type: ignore[arg-type]


def test_build_jql_is_bounded_and_quotes_everything():
    assert build_jql(projects=["OPS"], statuses=['In "Review"'], since="2024-05-01T10:30Z") == (
        'project in ("OPS") AND status in ("In \\"Review\\"") AND updated >= "2024-05-01 10:30" '
        "ORDER BY updated ASC"
    )
    with pytest.raises(ValueError, match="bounded"):
        build_jql(statuses=["Done"])
    with pytest.raises(ValueError):
        build_jql(projects=["OPS"], order_by="updated; DROP")
