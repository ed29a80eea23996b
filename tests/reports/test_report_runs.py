"""Report runs: validated parameters, executed notebook, offline code-free HTML, run.json, index."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from opskit.errors import ConfigError, ReportExecutionError
from opskit.reports import build_index, collect_runs, run_report


def test_unknown_or_mistyped_parameters_are_rejected_before_a_kernel_starts(
    report_home: Path,
) -> None:
    with pytest.raises(
        ConfigError, match=r"no parameter 'dayz'; valid parameters: days: int = 7, label: str"
    ):
        run_report("weekly", {"dayz": 3})
    with pytest.raises(
        ConfigError, match=r"parameter 'days' \(int\): expected a number, got 'three'"
    ):
        run_report("weekly", {"days": "three"})
    with pytest.raises(ConfigError, match="available reports: broken, weekly"):
        run_report("nope")
    assert not (report_home / "reports").exists()


def test_successful_run_writes_notebook_offline_html_and_manifest(report_home: Path) -> None:
    run = run_report("weekly", {"days": "5", "verbose": "true"}, logical_date=date(2026, 11, 2))
    assert run.status == "succeeded"
    assert run.folder.parent == report_home / "reports" / "weekly" / "2026-11-02"
    manifest = json.loads((run.folder / "run.json").read_text())
    assert manifest["parameters"] == {"days": 5, "verbose": True}
    assert manifest["status"] == "succeeded" and manifest["duration_s"] > 0
    assert len(manifest["cells"]) == 5 and all(
        c["duration_s"] is not None for c in manifest["cells"]
    )
    assert manifest["provenance"] == [{"kind": "demo", "label": manifest["provenance"][0]["label"]}]
    assert manifest["provenance"][0]["label"].startswith("DEMO DATA")
    page = run.html.read_text()
    assert "weekly: 5 days, verbose=True" in page  # outputs are there
    assert "SECRET_SOURCE_MARKER" not in page and "alt.Chart" not in page  # code is not
    assert "data:image/svg+xml" in page or "<svg" in page  # chart rendered without JavaScript
    assert manifest["external_references"] == [] and "cdnjs" not in page
    assert "opskit-provenance" in page and "DEMO DATA" in page
    latest = json.loads((report_home / "reports" / "weekly" / "latest.json").read_text())
    assert latest["run"] == f"weekly/2026-11-02/{run.folder.name}"


def test_failed_run_keeps_the_failing_notebook_and_never_replaces_a_good_run(
    report_home: Path,
) -> None:
    good = run_report("broken", {"fail": False}, run_id="slot", logical_date=date(2026, 11, 2))
    with pytest.raises(
        ReportExecutionError, match="cell 2 raised RuntimeError: planted failure"
    ) as info:
        run_report("broken", {"fail": True}, run_id="slot", logical_date=date(2026, 11, 2))
    err = info.value
    assert err.cell_index == 2  # 0-based, in the source notebook
    failed_nb = Path(str(err.output_path))
    assert failed_nb.exists() and failed_nb.parent != good.folder
    assert "papermill-error-cell-tag" in failed_nb.read_text()
    manifest = json.loads((failed_nb.parent / "run.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"]["ename"] == "RuntimeError" and manifest["error"]["cell_index"] == 2
    assert (failed_nb.parent / "broken.html").exists()
    assert json.loads((good.folder / "run.json").read_text())["status"] == "succeeded"
    latest = json.loads((report_home / "reports" / "broken" / "latest.json").read_text())
    assert latest["run"].endswith("/slot")


def test_index_lists_every_run_including_failures(report_home: Path) -> None:
    run_report("weekly")
    with pytest.raises(ReportExecutionError):
        run_report("broken")
    index = build_index(report_home / "reports")
    runs = collect_runs(report_home / "reports")
    assert sorted(r["status"] for r in runs) == ["failed", "succeeded"]
    page = index.read_text()
    assert page.count("<tr>") == 3 and "RuntimeError: planted failure" in page


def _cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSKIT_")} | {
        "OPSKIT_HOME": str(home)
    }
    exe = str(Path(sys.executable).parent / "opskit")
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


def test_cli_exit_codes_distinguish_cell_failures_from_bad_parameters(report_home: Path) -> None:
    ok = _cli(["report", "run", "weekly", "-p", "days=3"], report_home)
    assert ok.returncode == 0, ok.stderr
    assert (report_home / "reports" / "index.html").exists()
    bad = _cli(["report", "run", "weekly", "-p", "days=lots"], report_home)
    assert bad.returncode == 2 and "expected a number" in bad.stderr
    failed = _cli(["report", "run", "broken"], report_home)
    assert failed.returncode == 1 and "planted failure" in failed.stderr
    listing = _cli(["report", "list"], report_home)
    assert "weekly: days: int = 7" in listing.stdout


def test_run_all_in_parallel_writes_every_report_and_one_index(
    report_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "elsewhere"
    done = _cli(["report", "run", "--all", "--jobs", "2", "--output", str(out)], report_home)
    assert done.returncode == 1  # "broken" fails; "weekly" still runs and is indexed
    assert "weekly: succeeded" in done.stdout and "broken: FAILED" in done.stderr
    statuses = {r["name"]: r["status"] for r in collect_runs(out)}
    assert statuses == {"weekly": "succeeded", "broken": "failed"}
    assert (out / "index.html").exists() and not (report_home / "reports").exists()


def test_reports_run_from_a_thread_pool_close_the_event_loops_they_made(
    report_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``opskit report run --all``: no run leaves an open event loop behind."""
    made: list[asyncio.AbstractEventLoop] = []
    new_event_loop = asyncio.new_event_loop

    def tracked() -> asyncio.AbstractEventLoop:
        made.append(new_event_loop())
        return made[-1]

    monkeypatch.setattr(asyncio, "new_event_loop", tracked)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda run_id: run_report("weekly", run_id=run_id), "abc"))
    assert [r.status for r in runs] == ["succeeded"] * 3
    assert made and all(loop.is_closed() for loop in made)
