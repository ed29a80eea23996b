"""One INFO line per request; live frames carry live provenance and no secrets."""

from __future__ import annotations

import logging

import httpx
import pytest

from opskit import provenance
from opskit.connectors import DynatraceConnector, fakes
from opskit.errors import AuthError

CANARY = "NRAK-CANARY-provenance-0000"


def test_one_info_line_per_request_with_system_method_path_status_items_ms(
    dynatrace, clock, caplog
):
    fake = fakes.dynatrace(clock=clock, n_problems=30)
    caplog.set_level(logging.INFO, logger="opskit.connectors")
    with dynatrace(fake, page_size=10) as dt:
        dt.fetch_problems(start="now-7d")
    lines = [r.getMessage() for r in caplog.records if r.name == "opskit.connectors._http"]
    assert len(lines) == len(fake.requests) >= 2
    assert lines[0].startswith("dynatrace GET /api/v2/problems -> 200 (10 items, ")
    assert lines[0].endswith(" ms)")


def test_retries_are_logged(conviva, clock, caplog):
    fake = fakes.conviva(clock=clock).queue("metrics", 503)
    caplog.set_level(logging.INFO, logger="opskit.connectors")
    with conviva(fake) as cv:
        cv.fetch_qoe(start="2024-05-30", end="2024-05-31")
    assert any("retry 1/4" in r.getMessage() and "503" in r.getMessage() for r in caplog.records)


def test_live_frames_are_stamped_live_without_secrets(newrelic, jira, clock):
    nr_fake = fakes.newrelic(clock=clock, api_key=CANARY)
    with newrelic(nr_fake, api_key=CANARY) as nr:
        apm = nr.fetch_apm(["playback-api"], start="2024-05-31T00:00Z", end="2024-05-31T01:00Z")
    with jira(fakes.jira(clock=clock, token=CANARY), api_token=CANARY) as j:
        issues = j.fetch_issues(projects=["OPS"], with_changelog=False)
    for df, system in ((apm, "newrelic"), (issues, "jira")):
        prov = provenance.of(df)
        assert prov.kind == "live" and prov.systems == (system,)
        assert prov.as_of.timestamp() == clock.now
        assert set(df["provenance"]) == {"live"}
        assert CANARY not in str(df.attrs) and CANARY not in df.to_csv()


def test_frames_end_with_the_provenance_column(conviva, clock):
    with conviva(fakes.conviva(clock=clock)) as cv:
        df = cv.fetch_qoe(start="2024-05-30", end="2024-05-31")
    assert df.columns[-1] == "provenance" and df.columns[0] == "timestamp"


def test_progress_bar_on_multi_page_pulls_does_not_break_anything(dynatrace, clock, capsys):
    fake = fakes.dynatrace(clock=clock, n_problems=40)
    with dynatrace(fake, page_size=10, progress=True) as dt:
        df = dt.fetch_problems(start="now-7d")
    assert df["problem_id"].is_unique
    assert "dynatrace problems" in capsys.readouterr().err


def test_verbose_root_logging_does_not_turn_on_httpx_request_lines(dynatrace, clock, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger at DEBUG, like `opskit -v` and more
    fake = fakes.dynatrace(clock=clock, n_problems=30)
    with dynatrace(fake, page_size=10) as dt:
        dt.fetch_problems(start="now-7d")
    names = {r.name for r in caplog.records}
    assert "opskit.connectors._http" in names
    assert not [n for n in names if n.split(".")[0] in ("httpx", "httpcore")]


def test_httpx_lines_switched_on_explicitly_carry_redacted_urls(clock, caplog):
    caplog.set_level(logging.INFO, logger="httpx")
    url = "https://analyst:TOPSECRET-pw@abc12345.dynatrace.example.invalid"
    transport = httpx.MockTransport(fakes.dynatrace(clock=clock))
    with (
        DynatraceConnector(base_url=url, api_token="dt0c01.x", transport=transport) as dt,
        pytest.raises(AuthError),
    ):
        dt.fetch_problems()
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines and all("TOPSECRET" not in line for line in lines)
    assert "***@abc12345" in lines[0]
