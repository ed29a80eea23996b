"""``opskit schedule run --once`` end to end: real papermill runs in child processes.

The jobs use a yearly cron (``0 0 1 1 *``), so "the latest slot" stays the same
however long the runs take: the first invocation catches it up, the second
(a restarted process reading the persisted state) has nothing to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from opskit.cli import app
from opskit.reports import collect_runs

SCHEDULE = """
[[report]]
name = "weekly"
cron = "0 0 1 1 *"
parameters = { days = 4, label = "scheduled" }
retries = 1
timeout_s = 240

[[report]]
name = "broken"
cron = "0 0 1 1 *"
timeout_s = 240
"""


def _opskit(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSKIT_")} | {
        "OPSKIT_HOME": str(home)
    }
    exe = str(Path(sys.executable).parent / "opskit")
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_schedule_run_once_runs_due_jobs_exits_non_zero_on_failure_and_survives_restart(
    report_home: Path,
) -> None:
    (report_home / "reports").mkdir()
    (report_home / "reports" / "schedule.toml").write_text(SCHEDULE)

    first = _opskit(["schedule", "run", "--once"], report_home)
    assert first.returncode == 1, first.stderr  # broken failed
    year = first.stdout.split("weekly @ ")[1][:4]
    assert f"weekly @ {year}-01-01 00:00 UTC: succeeded after 1 attempt(s)" in first.stdout
    assert "broken @" in first.stderr and "failed" in first.stderr
    assert "planted failure" in first.stderr

    reports = report_home / "reports"
    weekly = reports / "weekly" / f"{year}-01-01" / "sched-0000"
    manifest = json.loads((weekly / "run.json").read_text())
    assert manifest["status"] == "succeeded"
    assert manifest["parameters"] == {"days": 4, "label": "scheduled"}
    assert manifest["schedule"]["job"] == "weekly" and manifest["schedule"]["attempts"] == 1
    assert (reports / "weekly" / "latest").resolve() == weekly.resolve()  # the latest pointer
    assert not (reports / "broken" / "latest").exists()  # a failure never becomes latest
    broken = json.loads(
        (reports / "broken" / f"{year}-01-01" / "sched-0000" / "run.json").read_text()
    )
    assert broken["status"] == "failed" and broken["error"]["ename"] == "RuntimeError"
    assert broken["schedule"]["attempts"] == 1

    state = json.loads((reports / ".scheduler" / "state.json").read_text())["jobs"]
    assert {k: v["status"] for k, v in state.items()} == {"weekly": "succeeded", "broken": "failed"}
    assert sorted(r["status"] for r in collect_runs(reports)) == ["failed", "succeeded"]
    index = (reports / "index.html").read_text()
    assert "RuntimeError: planted failure" in index and index.count("<tr>") == 3

    again = _opskit(["schedule", "run", "--once"], report_home)  # a new process: state persisted
    assert again.returncode == 0, again.stderr
    assert "nothing due; next slot" in again.stdout
    assert len(collect_runs(reports)) == 2

    cli = CliRunner()  # same code path, in-process (saves a Python start-up per call)
    listing = cli.invoke(app, ["schedule", "list"])
    assert listing.exit_code == 0 and "last: " in listing.stdout and "failed" in listing.stdout

    (reports / "schedule.toml").write_text('[[report]]\nname = "nope"\ncron = "0 0 1 1 *"\n')
    bad = cli.invoke(app, ["schedule", "run", "--once"])
    assert bad.exit_code == 2 and "no report 'nope'" in bad.stderr


FANOUT = """
[[report]]
name = "weekly"
cron = "0 0 1 1 *"
parameters = { label = "fanned", days = 7 }
matrix = { days = [3, 5] }
timeout_s = 240

[[report]]
name = "broken"
cron = "0 0 1 1 *"
timeout_s = 240
"""


def test_schedule_run_jobs_2_runs_matrix_jobs_at_once_each_in_its_own_run_folder(
    report_home: Path,
) -> None:
    reports = report_home / "reports"
    reports.mkdir()
    (reports / "schedule.toml").write_text(FANOUT)
    cli = CliRunner()
    listing = cli.invoke(app, ["schedule", "list"])
    assert listing.exit_code == 0, listing.output
    assert "weekly[days=3]" in listing.stdout and "weekly[days=5]" in listing.stdout

    first = _opskit(["schedule", "run", "--once", "--jobs", "2"], report_home)
    assert first.returncode == 1, first.stderr  # broken failed; both weekly jobs succeeded
    year = first.stdout.split("weekly[days=3] @ ")[1][:4]
    runs = {}
    for days in (3, 5):
        assert f"weekly[days={days}] @ {year}-01-01 00:00 UTC: succeeded" in first.stdout
        folder = reports / "weekly" / f"{year}-01-01" / f"sched-0000-days-{days}"
        runs[days] = json.loads((folder / "run.json").read_text())
        assert runs[days]["parameters"] == {"label": "fanned", "days": days}
        assert runs[days]["schedule"]["job"] == f"weekly[days={days}]"
    # the two weekly runs overlapped in time: they ran at once, in two kernels
    assert max(r["started_at"] for r in runs.values()) < min(r["ended_at"] for r in runs.values())
    state = json.loads((reports / ".scheduler" / "state.json").read_text())["jobs"]
    assert {k: v["status"] for k, v in state.items()} == {
        "weekly[days=3]": "succeeded", "weekly[days=5]": "succeeded", "broken": "failed",
    }  # fmt: skip
    assert json.loads((reports / "weekly" / "latest.json").read_text())["status"] == "succeeded"
    assert len(collect_runs(reports)) == 3

    (reports / "schedule.toml").write_text(FANOUT.replace("matrix = { days", "matrix = { dayz"))
    bad = cli.invoke(app, ["schedule", "run", "--once", "--jobs", "2"])
    assert bad.exit_code == 2 and "weekly[dayz=3]: weekly has no parameter 'dayz'" in bad.stderr
    assert len(collect_runs(reports)) == 3  # nothing ran
