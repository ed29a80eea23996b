"""A report run killed mid-way leaves no half report: only a hidden ``.tmp`` folder.

``opskit report run`` is started on a notebook that sleeps inside a cell and
killed (SIGKILL, whole process group) while that cell runs. No run folder may
exist and ``latest`` must not move; the index lists the run as abandoned (from
its start record, without links) and removes the dead run's temporary folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import nbformat as nbf
import pytest

from opskit.reports import build_index, clear_stale, collect_runs, run_report, unfinished_runs
from opskit.reports.layout import TMP_PATTERN

SLOW_CELLS = [
    ("seconds: float = 120.0  # how long the slow cell sleeps", ["parameters"]),
    ("import time\nprint('sleeping-now', flush=True)", []),
    ("time.sleep(seconds)", []),
    ("print('done')", []),
]


def _write_slow(home: Path) -> None:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "opskit",
        "display_name": "Python (opskit)",
        "language": "python",
    }
    nb.cells = [nbf.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in SLOW_CELLS]
    nbf.write(nb, home / "notebooks" / "analyses" / "slow.ipynb")


def _wait_for_sleeping_cell(report_dir: Path, proc: subprocess.Popen[bytes]) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        for nb in report_dir.glob("*/.*.tmp-*/slow.ipynb"):
            try:
                if "sleeping-now" in nb.read_text():
                    return nb.parent
            except OSError:
                pass
        time.sleep(0.2)
    raise AssertionError("the slow cell never started")


def test_a_run_killed_mid_way_leaves_no_half_report_and_is_listed_as_abandoned(
    report_home: Path,
) -> None:
    _write_slow(report_home)
    reports = report_home / "reports"
    (reports / "weekly" / "2026-11-01" / "earlier").mkdir(parents=True)  # a finished run
    (reports / "weekly" / "2026-11-01" / "earlier" / "run.json").write_text(
        json.dumps({"name": "weekly", "status": "succeeded", "started_at": "2026-11-01T06:00"})
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSKIT_")}
    env["OPSKIT_HOME"] = str(report_home)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "opskit"), "report", "run", "slow", "--date", "2026-11-02"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        tmp = _wait_for_sleeping_cell(reports / "slow", proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI; its kernel exits when its parent dies
        proc.wait(30)

    day = reports / "slow" / "2026-11-02"
    assert [p.name for p in day.iterdir()] == [tmp.name]  # only the hidden temporary folder
    assert TMP_PATTERN.match(tmp.name) and tmp.name.endswith(f"-{proc.pid}")
    assert not (reports / "slow" / "latest.json").exists()
    assert not (reports / "slow" / "latest").exists()
    # even a kill between writing run.json and the final rename is not a run
    (tmp / "run.json").write_text(json.dumps({"name": "slow", "status": "succeeded"}))
    assert [r["name"] for r in collect_runs(reports)] == ["weekly"]
    page = build_index(reports).read_text()
    assert not tmp.exists()  # the dead run's folder is gone
    assert page.count("<tr>") == 3 and "<td class='status abandoned'>abandoned</td>" in page
    assert "<a href='slow/" not in page  # nothing to link to

    rerun = run_report("slow", {"seconds": 0}, logical_date=date(2026, 11, 2))
    assert rerun.status == "succeeded"
    assert not any(TMP_PATTERN.match(p.name) for p in (reports / "slow").glob("*/*"))
    assert (reports / "slow" / "latest").resolve() == rerun.folder.resolve()
    assert sorted(r["name"] for r in collect_runs(reports)) == ["slow", "weekly"]
    assert [(r["name"], r["status"]) for r in unfinished_runs(reports)] == [("slow", "abandoned")]


def test_a_temporary_folder_without_a_start_record_is_kept_while_its_process_lives(
    report_home: Path,
) -> None:
    mine = report_home / "reports" / "weekly" / "2026-11-02" / f".x.tmp-{os.getppid()}"
    dead = mine.with_name(".y.tmp-999999999")
    for folder in (mine, dead):
        folder.mkdir(parents=True)
    assert clear_stale(report_home / "reports") == [dead]
    assert mine.exists()
    with pytest.raises(FileNotFoundError):
        dead.stat()
