"""The ``opskit`` command, run through its installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OPSKIT = str(Path(sys.executable).parent / "opskit")


def run(args: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("OPSKIT_")} | env
    return subprocess.run(
        [OPSKIT, *args], capture_output=True, text=True, env=full, timeout=120, check=False, **kw
    )  # type: ignore[call-overload]


def test_datasets_lists_rows_provenance_and_freshness(demo_env: dict[str, str]) -> None:
    out = run(["datasets"], demo_env)
    assert out.returncode == 0, out.stderr
    for name in ("churn_signals", "pareto_analysis", "apm_health", "streaming_qoe"):
        assert name in out.stdout
    assert "Data up to" in out.stdout and "1 Nov 2026" in out.stdout  # dates as people write them
    assert "DEMO DATA (synthetic, not live)" in out.stdout


def test_show_prints_json_with_provenance(demo_env: dict[str, str]) -> None:
    out = run(
        ["show", "international_markets", "--filter", "region=brazil,india", "--format", "json"],
        demo_env,
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["provenance"]["kind"] == "demo"
    assert sorted(r["region"] for r in payload["rows"]) == ["brazil", "india"]
    assert payload["filters"] == {"region": ["brazil", "india"]}


def test_show_prints_csv_and_tables(demo_env: dict[str, str]) -> None:
    csv = run(["show", "problems", "-f", "status=CLOSED", "--format", "csv"], demo_env)
    assert csv.returncode == 0, csv.stderr
    header, *rows = csv.stdout.strip().splitlines()
    assert (
        header.startswith("problem_id,display_id") and rows and all(",CLOSED," in r for r in rows)
    )
    table = run(["show", "retention_campaigns"], demo_env)
    assert table.returncode == 0 and "CMP-001" in table.stdout and "DEMO DATA" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "nope"], "unknown dataset 'nope'"),
        (["show", "problems", "-f", "status=OPN"], "valid values: OPEN, CLOSED"),
        (["show", "problems", "-f", "status"], "--filter takes key=value"),
        (["show", "problems", "--format", "xml"], "--format must be table, csv or json"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(
    demo_env: dict[str, str], args: list[str], message: str
) -> None:
    out = run(args, demo_env)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_describe_documents_filters_and_columns(demo_env: dict[str, str]) -> None:
    out = run(["describe", "streaming_qoe"], demo_env)
    assert out.returncode == 0
    assert "granularity" in out.stdout and "rebuffering_ratio" in out.stdout


def test_doctor_reports_sources_and_never_prints_secrets(demo_env: dict[str, str]) -> None:
    # Configured sources are probed, so they point at fake servers on 127.0.0.1
    # that accept the canary credentials (never at the internet).
    from opskit.connectors import fakes

    nr = fakes.newrelic(api_key="NRAK-TOPSECRET-1", account_id=1234)
    dt_scopes = fakes.dynatrace().tokens[fakes.DYNATRACE_TOKEN]
    dt = fakes.dynatrace(tokens={"dt0c01.TOPSECRET-2": dt_scopes})
    with fakes.serve(nr) as nr_url, fakes.serve(dt) as dt_url:
        secrets = {
            "OPSKIT_NEWRELIC__API_KEY": "NRAK-TOPSECRET-1",
            "OPSKIT_NEWRELIC__ACCOUNT_ID": "1234",
            "OPSKIT_NEWRELIC__ENDPOINT": f"{nr_url}/graphql",
            "OPSKIT_DYNATRACE__API_TOKEN": "dt0c01.TOPSECRET-2",
            "OPSKIT_DYNATRACE__BASE_URL": dt_url,
            "OPSKIT_JIRA__API_TOKEN": "TOPSECRET-3",
        }
        out = run(["doctor", "--json"], demo_env | secrets)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "TOPSECRET" not in out.stdout + out.stderr
        report = json.loads(out.stdout)
        assert report["warehouse"]["ok"] and report["warehouse"]["kind"] == "demo"
        assert (
            report["newrelic"]["api_key"] == "set (hidden)"
            and report["newrelic"]["effective"] == "live"
        )
        assert report["newrelic"]["ok"] is True and report["dynatrace"]["ok"] is True
        assert report["conviva"]["effective"] == "demo"
        verbose = run(["-v", "doctor"], demo_env | secrets)
        assert "TOPSECRET" not in verbose.stdout + verbose.stderr


def test_doctor_fails_when_a_live_source_has_no_credentials(demo_env: dict[str, str]) -> None:
    out = run(["doctor"], demo_env | {"OPSKIT_JIRA__MODE": "live"})
    assert out.returncode == 1
    assert "mode is live but jira credentials are not configured" in out.stdout


def test_demo_build_writes_a_fresh_warehouse(tmp_path: Path) -> None:
    target = tmp_path / "wh.duckdb"
    env = {"OPSKIT_HOME": str(tmp_path), "OPSKIT_WAREHOUSE_URL": f"duckdb://{target}"}
    out = run(["demo", "build", "--scale", "0.01", "--seed", "3"], env)
    assert out.returncode == 0, out.stderr
    assert target.exists() and "subscribers" in out.stdout
    listed = run(["datasets", "--no-rows"], env)
    assert listed.returncode == 0 and "revenue_impact" in listed.stdout
    bad = run(["demo", "build", "--scale", "0"], env)
    assert bad.returncode == 2 and "--scale" in bad.stderr


def test_logs_of_a_load_carry_no_secret(
    demo_env: dict[str, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from opskit.catalog import load

    monkeypatch.setenv("OPSKIT_JIRA__API_TOKEN", "TOPSECRET-LOG")
    with caplog.at_level(logging.DEBUG):
        load("production_issues")
    assert caplog.records and "TOPSECRET" not in caplog.text
