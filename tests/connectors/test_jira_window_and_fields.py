"""Jira: a created window returns exactly the issues created in it; custom fields map by id or name."""

from __future__ import annotations

import logging

import httpx
import pandas as pd
import pytest
from connector_support import served

from opskit.config import load_settings
from opskit.connectors import connector_from_settings, fakes
from opskit.errors import ConfigError
from opskit.schemas import ProductionIssues, validate

LO, HI = pd.Timestamp("2024-05-01T00:00Z"), pd.Timestamp("2024-05-15T00:00Z")
ALL = 'project in ("OPS", "PLAY")'


def _created(j) -> dict[str, pd.Timestamp]:
    """Every issue's creation time, as the server reports it (the ground truth)."""
    return {
        i["key"]: pd.Timestamp(i["fields"]["created"]).tz_convert("UTC")
        for i in j.search(ALL, fields=["created"])
    }


def _in(created: dict[str, pd.Timestamp], lo=LO, hi=HI) -> set[str]:
    return {k for k, t in created.items() if lo <= t < hi}


def test_the_fake_applies_created_bounds_like_jira(jira, clock):
    fake = fakes.jira(clock=clock, n_issues=400)
    with jira(fake) as j:
        created = _created(j)
        hits = j.search(
            f'{ALL} AND created >= "2024-05-01 00:00" AND created < "2024-05-15 00:00"',
            fields=["created"],
        )
        updated = j.search(
            f'{ALL} AND updated >= "2024-05-01 00:00" AND updated < "2024-05-15 00:00"',
            fields=["created"],
        )
    assert {i["key"] for i in hits} == _in(created) != {i["key"] for i in updated}
    assert 0 < len(hits) < len(created)


@pytest.mark.parametrize("offset_h", [0.0, 12.0, -10.0])
@pytest.mark.parametrize("mode", ["cloud", "datacenter"])
def test_a_created_window_returns_exactly_the_issues_created_in_it(jira, clock, mode, offset_h):
    # Jira reads JQL dates in the account's time zone: the window must still be exact in UTC.
    fake = fakes.jira(clock=clock, mode=mode, n_issues=400, user_utc_offset_h=offset_h)
    email = fakes.JIRA_EMAIL if mode == "cloud" else ""
    with jira(fake, email=email) as j:
        df = j.fetch_issues(projects=["OPS", "PLAY"], since=LO, until=HI, date_field="created")
        created = _created(j)
    validate(df, ProductionIssues)
    assert set(df["key"]) == _in(created) and df["key"].is_unique
    assert df["created"].between(LO, HI, inclusive="left").all()
    first = fake.calls("search_jql" if mode == "cloud" else "search")[0].body["jql"]
    assert "created >= " in first and first.endswith("ORDER BY created ASC")


def test_the_default_updated_window_is_unchanged_and_differs_from_created(jira, clock):
    fake = fakes.jira(clock=clock, n_issues=400)
    with jira(fake) as j:
        by_updated = j.fetch_issues(projects=["OPS", "PLAY"], since=LO, until=HI)
        by_created = j.fetch_issues(
            projects=["OPS", "PLAY"], since=LO, until=HI, date_field="created"
        )
    assert (by_updated["created"] < LO).any()  # the reported bug: issues created before May
    assert set(by_updated["key"]) != set(by_created["key"])
    with jira(fake) as j, pytest.raises(ValueError, match="date_field"):
        j.fetch_issues(projects=["OPS"], since=LO, date_field="resolved")  # type: ignore[arg-type]


def test_created_window_over_loopback(jira, clock):
    fake = fakes.jira(clock=clock, n_issues=300, user_utc_offset_h=5.5)
    with served(fake) as url, jira(fake, base_url=url) as j:
        df = j.fetch_issues(projects=["OPS", "PLAY"], since=LO, until=HI, date_field="created")
        assert set(df["key"]) == _in(_created(j))


def test_mapped_fields_arrive_filled_whether_given_by_name_or_id(jira, clock):
    fake = fakes.jira(clock=clock, n_issues=120)
    mapping = {
        "cost_field": "Cost overrun (USD)",  # display name
        "team_field": "team",  # name, any case
        "show_field": "customfield_10060",  # id
        "root_cause_field": "cf[10090]",  # JQL clause name
    }
    with jira(fake, **mapping) as j:
        df = j.fetch_issues(projects=["OPS", "PLAY"], with_changelog=False)
        again = j.fetch_issues(projects=["OPS"], with_changelog=False)
    validate(df, ProductionIssues)
    assert df["team"].notna().all() and set(df["team"]) == {
        "Team Falcon",
        "Team Heron",
        "Team Kestrel",
    }
    assert df["show"].str.startswith("Show-").all()
    assert df["cost_overrun_usd"].notna().mean() > 0.7  # a quarter has no cost recorded
    assert df["root_cause"].notna().mean() > 0.8 and "Capacity" in set(df["root_cause"])
    asked = set(fake.calls("search_jql")[0].body["fields"])
    assert {
        "customfield_10050",
        "customfield_10060",
        "customfield_10080",
        "customfield_10090",
    } <= asked
    assert len(fake.calls("field")) == 1 and len(again) > 0  # resolved once per connector


def test_without_a_mapping_the_columns_stay_empty_and_fields_is_not_called(jira, clock):
    fake = fakes.jira(clock=clock, n_issues=40)
    with jira(fake) as j:
        df = j.fetch_issues(projects=["OPS"], with_changelog=False)
    assert df[["team", "show", "root_cause"]].isna().all().all()
    assert df["cost_overrun_usd"].isna().all() and not fake.calls("field")


def test_unknown_and_ambiguous_names_are_config_errors_naming_the_setting(jira, clock):
    fake = fakes.jira(clock=clock, extra_fields=(("customfield_10200", "Team"),))
    with jira(fake, team_field="Teams") as j, pytest.raises(ConfigError) as info:
        j.fetch_issues(projects=["OPS"])
    assert "OPSKIT_JIRA__FIELDS__TEAM" in str(info.value) and "'Team'" in str(info.value)
    with jira(fake, team_field="Team") as j, pytest.raises(ConfigError) as info:
        j.fetch_issues(projects=["OPS"])
    assert "customfield_10080" in str(info.value) and "customfield_10200" in str(info.value)
    with jira(fake, cost_field="customfield_4242") as j, pytest.raises(ConfigError, match="id"):
        j.fetch_issues(projects=["OPS"])
    with jira(fake, team_field="customfield_10200") as j:  # the id settles it
        assert j.resolve_fields()["team"].name == "Team"


def test_a_refused_fields_api_falls_back_to_ids_but_not_names(jira, clock, caplog):
    fake = fakes.jira(clock=clock, n_issues=20).queue("field", 403)
    with jira(fake, show_field="customfield_10060") as j:
        df = j.fetch_issues(projects=["OPS"], with_changelog=False)
    assert df["show"].notna().all() and "fields API refused" in caplog.text
    fake.queue("field", 403)
    with jira(fake, show_field="Show") as j, pytest.raises(ConfigError, match="field ids"):
        j.fetch_issues(projects=["OPS"], with_changelog=False)


def test_fields_lists_system_and_custom_fields_in_both_deployments(jira, clock):
    for mode, email in (("cloud", fakes.JIRA_EMAIL), ("datacenter", "")):
        fake = fakes.jira(clock=clock, mode=mode)
        with jira(fake, email=email) as j:
            fields = {f.id: f for f in j.fields()}
        assert fields["customfield_10050"].name == "Cost overrun (USD)"
        assert fields["customfield_10050"].custom and fields["customfield_10050"].type == "number"
        assert not fields["summary"].custom
        assert fake.calls("field")[0].path == (
            "/rest/api/3/field" if mode == "cloud" else "/rest/api/2/field"
        )


class TestSettings:
    @pytest.fixture(autouse=True)
    def _isolated(self, tmp_path, monkeypatch):
        import os

        for key in list(os.environ):
            if key.upper().startswith("OPSKIT_"):
                monkeypatch.delenv(key)
        monkeypatch.setenv("OPSKIT_HOME", str(tmp_path))
        monkeypatch.setenv("OPSKIT_JIRA__BASE_URL", "https://jira.example.invalid")
        monkeypatch.setenv("OPSKIT_JIRA__EMAIL", fakes.JIRA_EMAIL)
        monkeypatch.setenv("OPSKIT_JIRA__API_TOKEN", fakes.JIRA_TOKEN)

    def test_env_vars_map_fields_by_name_or_id(self, monkeypatch, clock):
        monkeypatch.setenv("OPSKIT_JIRA__FIELDS__COST", "Cost overrun (USD)")
        monkeypatch.setenv("OPSKIT_JIRA__FIELDS__TEAM", "customfield_10080")
        monkeypatch.setenv("OPSKIT_JIRA__FIELDS__ROOT_CAUSE", "Root cause")
        settings = load_settings()
        assert settings.jira.fields == {
            "cost": "Cost overrun (USD)",
            "team": "customfield_10080",
            "root_cause": "Root cause",
        }
        fake = fakes.jira(clock=clock, n_issues=30)
        with connector_from_settings(
            "jira", settings, transport=httpx.MockTransport(fake), progress=False
        ) as j:
            df = j.fetch_issues(projects=["OPS"], with_changelog=False)
        assert df["team"].notna().all() and df["root_cause"].notna().any()
        assert df["cost_overrun_usd"].notna().any()

    def test_an_unknown_role_is_a_config_error(self, monkeypatch):
        monkeypatch.setenv("OPSKIT_JIRA__FIELDS__SQUAD", "Team")
        with pytest.raises(ConfigError, match="valid roles: cost"):
            load_settings()


@pytest.fixture(autouse=True)
def _warnings_visible(caplog):
    caplog.set_level(logging.WARNING, logger="opskit.connectors.jira")
