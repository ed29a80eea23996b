"""End to end through real loopback servers, and ``opskit doctor`` probes."""

from __future__ import annotations

import json
import socket

from hybrid_support import CANARY, FakeFactory, MakeSettings, newrelic_settings

from opskit import provenance as prov
from opskit.catalog import load
from opskit.config import Settings
from opskit.connectors import BaseConnector, connector_from_settings, fakes
from opskit.doctor import ConnectorFactory, run_checks


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_problems_live_then_cached_through_a_loopback_server(make_settings: MakeSettings) -> None:
    fake = fakes.dynatrace(n_problems=30)
    with fakes.serve(fake) as url:
        dt = {"base_url": url, "api_token": fakes.DYNATRACE_TOKEN, "max_retries": 0}
        settings = make_settings(dynatrace=dt)
        live = load(
            "problems", settings=settings, status="OPEN", start="2024-01-01", end="2024-07-01"
        )
        again = load(
            "problems", settings=settings, status="OPEN", start="2024-01-01", end="2024-07-01"
        )
    assert prov.of(live).kind == "live" and prov.of(live).systems == ("dynatrace",)
    assert len(live) > 0 and set(live["status"]) == {"OPEN"}
    assert prov.of(again).kind == "cache" and len(again) == len(live)
    # the server is gone: a fresh session past the TTL degrades to that cache
    stale = make_settings(dynatrace=dt, cache_ttl_overrides={"problems": 0})
    fallback = load("problems", settings=stale, status="OPEN", start="2024-01-01", end="2024-07-01")
    assert prov.of(fallback).kind == "cache" and "UnavailableError" in prov.of(fallback).detail


def test_doctor_reports_a_configured_fake_ok_and_a_closed_port_not_ok(
    make_settings: MakeSettings,
) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    settings = make_settings(
        newrelic=newrelic_settings(),
        dynatrace={"base_url": dead, "api_token": "dt0c01." + CANARY},
        conviva={"mode": "demo", "client_id": "c", "client_secret": CANARY},
    )
    report = run_checks(settings=settings, connector_factory=_only_newrelic_faked())
    assert report["newrelic"]["ok"] is True and "readable" in report["newrelic"]["check"]
    assert report["dynatrace"]["ok"] is False and report["dynatrace"]["effective"] == "live"
    assert report["dynatrace"]["api_token"] == "set (hidden)"
    assert report["conviva"]["check"] == "skipped (mode is demo)"
    assert "ok" not in report["jira"]  # not configured: nothing to probe
    assert CANARY not in json.dumps(report, default=str)


def test_doctor_reports_rejected_credentials_without_the_secret(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings(newrelic=newrelic_settings(api_key=CANARY))
    report = run_checks(settings=settings, connector_factory=FakeFactory(fakes.newrelic()))
    assert report["newrelic"]["ok"] is False
    assert "OPSKIT_NEWRELIC__API_KEY" in report["newrelic"]["check"]
    assert CANARY not in json.dumps(report, default=str)


def _only_newrelic_faked() -> ConnectorFactory:
    """New Relic through its fake; the others for real (here: a closed loopback port)."""
    nr = FakeFactory(fakes.newrelic())

    def factory(name: str, settings: Settings) -> BaseConnector:
        if name == "newrelic":
            return nr(name, settings)
        return connector_from_settings(name, settings, max_retries=0)

    return factory


def test_a_live_source_moves_the_analysis_window_to_now(make_settings: MakeSettings) -> None:
    from datetime import UTC, datetime

    import pandas as pd

    from opskit import analyses

    fake = fakes.dynatrace(n_problems=30)
    with fakes.serve(fake) as url:
        dt = {"base_url": url, "api_token": fakes.DYNATRACE_TOKEN, "max_retries": 0}
        live = analyses.service_health(
            days=7, include_qoe=False, settings=make_settings(dynatrace=dt)
        )
    demo = analyses.service_health(days=7, include_qoe=False, settings=make_settings())
    asked = [r for r in fake.requests if r.path.endswith("/problems") and r.param("from")]
    since = pd.to_datetime(int(str(asked[0].param("from"))), unit="ms", utc=True)
    now = pd.Timestamp(datetime.now(UTC))
    assert (
        now - pd.Timedelta(days=8, minutes=5)
        <= since
        <= now - pd.Timedelta(days=8) + pd.Timedelta(minutes=5)
    )
    assert "window ends now" in live.notes[0] and "Dynatrace data is live" in live.notes[0]
    assert "window ends now" in live.provenance.detail
    assert "window ends where the warehouse data ends (1 Nov 2026" in demo.notes[0]
    assert demo.provenance.kind == "demo" and "window ends where" in demo.provenance.detail


def test_a_long_url_never_hides_why_the_live_fetch_failed(make_settings: MakeSettings) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/e/" + "environment-" * 40
    dt = {"base_url": dead, "api_token": fakes.DYNATRACE_TOKEN, "max_retries": 0}
    frame = load("problems", settings=make_settings(dynatrace=dt), start="2026-10-01")
    detail = prov.of(frame).detail
    assert prov.of(frame).kind == "demo" and "UnavailableError" in detail
    assert "refused" in detail.lower() or "connect" in detail.lower(), detail
    assert fakes.DYNATRACE_TOKEN not in detail


def test_live_production_issues_are_exactly_those_created_in_the_window_with_mapped_fields(
    make_settings: MakeSettings,
) -> None:
    import pandas as pd

    lo, hi = pd.Timestamp("2024-05-01T00:00Z"), pd.Timestamp("2024-06-01T00:00Z")
    fake = fakes.jira(n_issues=400, user_utc_offset_h=-10.0)
    with fakes.serve(fake) as url:
        jira = {
            "mode": "live", "base_url": url, "email": fakes.JIRA_EMAIL,
            "api_token": fakes.JIRA_TOKEN, "projects": ["OPS", "PLAY"], "max_retries": 0,
            "fields": {"cost": "Cost overrun (USD)", "team": fake.team_field,
                       "show": "Show", "root_cause": "Root cause"},
        }  # fmt: skip
        settings = make_settings(jira=jira)
        frame = load("production_issues", settings=settings, start=lo, end=hi)
        with connector_from_settings("jira", settings) as conn:
            everything = conn.fetch_issues(projects=["OPS", "PLAY"], with_changelog=False)
    created = everything.set_index("key")["created"]
    assert prov.of(frame).kind == "live"
    assert set(frame["key"]) == set(created[(created >= lo) & (created < hi)].index)
    for column in ("cost_overrun_usd", "team", "show", "root_cause"):
        assert frame[column].notna().any(), column
