"""The connector registry, building from settings, and the doctor probe."""

from __future__ import annotations

import httpx
import pytest

from opskit.config import load_settings
from opskit.connectors import CONNECTORS, connector_from_settings, fakes
from opskit.errors import ConfigError


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """No developer .env, opskit.toml or OPSKIT_* variables leak into these tests."""
    import os

    for key in list(os.environ):
        if key.upper().startswith("OPSKIT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OPSKIT_HOME", str(tmp_path))


def _settings(**over):
    return load_settings(**{**_base(), **over})


def _base():
    return dict(
        newrelic={"api_key": fakes.NEWRELIC_KEY, "account_id": fakes.NEWRELIC_ACCOUNT},
        dynatrace={"base_url": "https://abc.example.invalid", "api_token": fakes.DYNATRACE_TOKEN},
        jira={
            "base_url": "https://j.example.invalid",
            "email": fakes.JIRA_EMAIL,
            "api_token": fakes.JIRA_TOKEN,
        },
        confluence={
            "base_url": "https://w.example.invalid",
            "email": fakes.CONFLUENCE_EMAIL,
            "api_token": fakes.CONFLUENCE_TOKEN,
            "space_key": "OPS",
        },
        conviva={
            "client_id": fakes.CONVIVA_CLIENT_ID,
            "client_secret": fakes.CONVIVA_CLIENT_SECRET,
        },
    )


@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_built_from_settings_and_checked(name, clock):
    fake = getattr(fakes, name)(clock=clock)
    conn = connector_from_settings(
        name, _settings(), transport=httpx.MockTransport(fake), sleep=clock.sleep
    )
    with conn:
        report = conn.check()
    assert isinstance(conn, CONNECTORS[name])
    assert report["ok"] is True, report
    assert set(report) == {"ok", "detail"}


@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_check_reports_rejected_credentials_without_raising(name, clock):
    fake = getattr(fakes, name)(clock=clock)
    secret = {"newrelic": "api_key", "conviva": "client_secret"}.get(name, "api_token")
    settings = _settings().source(name).model_copy(update={secret: "WRONG-but-SECRET-9999"})
    with connector_from_settings(
        name, settings, transport=httpx.MockTransport(fake), sleep=clock.sleep
    ) as conn:
        report = conn.check()
    assert report["ok"] is False and "401" in report["detail"]
    assert "WRONG-but-SECRET-9999" not in report["detail"]


def test_missing_settings_are_named_never_valued():
    settings = load_settings(
        jira={"base_url": "https://j.example.invalid", "api_token": "tok-SECRET-1"}
    )
    with pytest.raises(ConfigError) as info:
        connector_from_settings("jira", settings)
    assert "OPSKIT_JIRA__EMAIL" in str(info.value) and "tok-SECRET-1" not in str(info.value)
    with pytest.raises(ConfigError, match=r"OPSKIT_NEWRELIC__API_KEY.*OPSKIT_NEWRELIC__ACCOUNT_ID"):
        connector_from_settings("newrelic", load_settings())
    with pytest.raises(ConfigError, match="unknown connector"):
        connector_from_settings("splunk", load_settings())


def test_settings_limits_are_passed_through():
    settings = _settings(
        dynatrace={
            "base_url": "https://a.invalid",
            "api_token": "t",
            "timeout_s": 33,
            "max_retries": 1,
        }
    )
    with connector_from_settings("dynatrace", settings) as dt:
        assert dt.timeout.read == 33 and dt.max_retries == 1
        assert dt.timeout_s == 33 and dt.deadline_s == 300  # the default pull deadline


def test_deadline_and_timeout_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPSKIT_JIRA__DEADLINE_S", "45")
    monkeypatch.setenv("OPSKIT_JIRA__TIMEOUT_S", "4")
    settings = _settings()
    assert settings.newrelic.timeout_s == 75  # New Relic's default leaves NRQL 70 s
    with connector_from_settings("jira", settings) as j:
        assert (j.timeout_s, j.deadline_s) == (4, 45)


def test_connector_closes_its_client():
    conn = CONNECTORS["conviva"](
        client_id="a", client_secret="b", transport=httpx.MockTransport(fakes.conviva())
    )
    with conn:
        pass
    assert conn._client.is_closed
