"""``opskit doctor`` lists Jira's custom fields by name and id and checks the field mapping."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from opskit.config import Settings, load_settings
from opskit.connectors import BaseConnector, connector_from_settings, fakes
from opskit.doctor import run_checks


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer .env, opskit.toml or OPSKIT_* variables leak in; no warehouse needed."""
    for key in list(os.environ):
        if key.upper().startswith("OPSKIT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OPSKIT_HOME", str(tmp_path))


def _settings(**fields: str) -> Settings:
    return load_settings(
        jira={
            "base_url": "https://jira.example.invalid",
            "email": fakes.JIRA_EMAIL,
            "api_token": fakes.JIRA_TOKEN,
            "fields": fields,
        }
    )


def _factory(fake: fakes.JiraFake):
    def build(name: str, settings: Settings) -> BaseConnector:
        return connector_from_settings(name, settings, transport=httpx.MockTransport(fake))

    return build


def test_doctor_lists_custom_fields_by_name_and_id_and_shows_the_mapping() -> None:
    fake = fakes.jira()
    report = run_checks(
        settings=_settings(cost="Cost overrun (USD)", team="customfield_10080"),
        connector_factory=_factory(fake),
    )
    jira = report["jira"]
    assert jira["ok"] is True, jira
    listing = jira["custom_fields"]
    assert listing.startswith("6 custom fields; map one with OPSKIT_JIRA__FIELDS__<ROLE>")
    lines = {line.split()[0]: line for line in listing.splitlines()[1:]}
    assert "customfield_10050" in lines["Cost"] and lines["Cost"].endswith("number  <- cost")
    assert "customfield_10090" in lines["Root"] and "<-" not in lines["Root"]
    assert "Summary" not in listing  # system fields are not listed
    assert "cost -> customfield_10050 (Cost overrun (USD))" in jira["field_mapping"]
    assert "team -> customfield_10080 (Team)" in jira["field_mapping"]
    assert "not mapped: budget, delay, show, severity, root_cause" in jira["field_mapping"]
    assert fakes.JIRA_TOKEN not in json.dumps(report, default=str)


def test_doctor_fails_on_a_mapping_that_does_not_resolve() -> None:
    fake = fakes.jira(extra_fields=(("customfield_10200", "Team"),))
    report = run_checks(settings=_settings(team="Team"), connector_factory=_factory(fake))
    jira = report["jira"]
    assert jira["ok"] is False
    assert jira["field_mapping"].startswith("error: jira: OPSKIT_JIRA__FIELDS__TEAM")
    assert "customfield_10200" in jira["field_mapping"]
    assert "Team" in jira["custom_fields"]  # the list is still there to pick from


def test_doctor_without_a_mapping_says_which_columns_stay_empty() -> None:
    report = run_checks(settings=_settings(), connector_factory=_factory(fakes.jira()))
    jira = report["jira"]
    assert jira["ok"] is True
    assert "cost_overrun_usd empty" in jira["field_mapping"]
    assert "team empty" in jira["field_mapping"] and "root_cause empty" in jira["field_mapping"]


def test_doctor_names_the_warehouse_engine_and_its_version(tmp_path: Path) -> None:
    import duckdb

    from opskit.warehouse import Warehouse, meta_frame

    url = f"duckdb://{tmp_path / 'opskit.duckdb'}"
    with Warehouse(url, read_only=False) as wh:
        wh.write("opskit_meta", meta_frame({"kind": "demo"}))
    report = run_checks(settings=load_settings(warehouse_url=url))
    assert report["warehouse"]["ok"] is True
    assert report["warehouse"]["engine"] == f"duckdb {duckdb.__version__}"
