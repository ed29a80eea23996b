"""A killed or crashed run is listed as abandoned; only dead runs lose their temporary folder.

Every run writes a start record (``reports/<name>/.runs/<attempt>.json``) before its
temporary folder. The index lists a record whose process is gone as ``abandoned``
(start time, parameters, no links), and building the index or starting any run
removes the temporary folders of dead runs, never those of live ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat as nbf
import pytest

from opskit.errors import ReportExecutionError
from opskit.present.units import fmt_timestamp
from opskit.reports import build_index, clear_stale, collect_runs, run_report, unfinished_runs
from opskit.reports.journal import StartedRun, run_status, this_machine
from opskit.reports.layout import record_path, tmp_folders

WAITING_CELLS = [
    (
        'seconds: float = 120.0  # longest wait\ngate: str = ""  # a file that ends the wait\nlabel: str = ""',
        ["parameters"],
    ),
    ("import time\nfrom pathlib import Path\nprint('waiting-now', flush=True)", []),
    (
        "deadline = time.monotonic() + seconds\n"
        "while time.monotonic() < deadline and not (gate and Path(gate).exists()):\n"
        "    time.sleep(0.05)",
        [],
    ),
    ("print('done')", []),
]
#: Report runs alive at once in the kill test (two cores; each start-up is ~2 s of CPU).
BATCH = 4
KILLED = 20


def _write_waiting(home: Path) -> None:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "opskit", "display_name": "Python (opskit)", "language": "python"}  # fmt: skip
    nb.cells = [nbf.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in WAITING_CELLS]
    nbf.write(nb, home / "notebooks" / "analyses" / "waiting.ipynb")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSKIT_")}
    return env | {"OPSKIT_HOME": str(home)}


def _opskit(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "opskit"), *args],
        env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the CLI and its process group (its kernel, if it got that far)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def _started(reports: Path, pid: int) -> dict[str, Any] | None:
    """The start record of the run in process ``pid``, once its temporary folder exists."""
    for run in unfinished_runs(reports):
        if run["pid"] == pid and (reports / run["name"] / run["tmp"]).is_dir():
            return run
    return None


def _rows(page: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", page)[1:]  # after the header row


def _row_with(page: str, text: str) -> str:
    (row,) = [r for r in _rows(page) if text in r]
    return row


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _record(reports: Path, name: str, **fields: Any) -> Path:
    """A start record as a run writes it (see opskit.reports.journal)."""
    attempt = fields.pop("attempt", uuid.uuid4().hex)
    path = record_path(reports / name, attempt)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).isoformat()
    data = {"attempt": attempt, "status": "running", "name": name, "logical_date": "2026-11-02",
            "parameters": {}, "started_at": now, "heartbeat_at": now, "pid": 999_999_999,
            **this_machine(), **fields}  # fmt: skip
    path.write_text(json.dumps(data))
    return path


@pytest.mark.slow
def test_twenty_killed_runs_are_listed_as_abandoned_and_the_index_clears_their_folders(
    report_home: Path,
) -> None:
    _write_waiting(report_home)
    reports = report_home / "reports"
    pending, live = list(range(KILLED)), []
    killed: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 120
    try:
        while pending or live:
            assert time.monotonic() < deadline, f"{len(killed)} of {KILLED} runs killed in time"
            while pending and len(live) < BATCH:
                label = f"killed-{pending.pop(0):02d}"
                live.append((label, _opskit(report_home, "report", "run", "waiting", "-p", f"label={label}")))  # fmt: skip
            for label, proc in list(live):
                assert proc.poll() is None, f"run {label} ended before it could be killed"
                record = _started(reports, proc.pid)
                if record is not None:
                    _kill(proc)
                    killed[label] = record
                    live.remove((label, proc))
            time.sleep(0.05)
    finally:
        for _, proc in live:
            _kill(proc)

    assert len(killed) == KILLED
    assert all(r["status"] == "running" for r in killed.values())  # as seen before each kill
    assert not list((reports / "waiting").glob("*/*/run.json"))  # no run finished
    assert tmp_folders(reports / "waiting")  # the last runs' folders: no run started since
    index = subprocess.run(
        [str(Path(sys.executable).parent / "opskit"), "report", "index"],
        env=_env(report_home), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert index.returncode == 0, index.stderr
    assert tmp_folders(reports / "waiting") == []
    page = (reports / "index.html").read_text()
    assert len(_rows(page)) == KILLED and f"{KILLED} runs: 0 failed, {KILLED} abandoned." in page
    for label, record in killed.items():
        row = _row_with(page, f"label={label}")
        assert "<td class='status abandoned'>abandoned</td>" in row
        assert f"<td>{fmt_timestamp(record['started_at'])}</td>" in row
        assert f"<td>label={label}</td>" in row
        assert "<a " not in row and "stopped before it finished" in row
    assert {r["parameters"]["label"] for r in unfinished_runs(reports)} == set(killed)


@pytest.mark.slow
def test_a_live_run_keeps_its_folder_while_the_index_and_other_runs_clear_stale_ones(
    report_home: Path, tmp_path: Path
) -> None:
    _write_waiting(report_home)
    reports = report_home / "reports"
    gate = tmp_path / "go"
    dead = reports / "waiting" / "2026-11-01" / ".old.tmp-999999999"  # a killed run's folder
    dead.mkdir(parents=True)
    proc = _opskit(report_home, "report", "run", "waiting", "-p", f"gate={gate}", "-p", "label=live")  # fmt: skip
    try:
        deadline, record = time.monotonic() + 120, None
        while record is None or "waiting-now" not in _text(reports / "waiting" / record["tmp"] / "waiting.ipynb"):  # fmt: skip
            assert proc.poll() is None and time.monotonic() < deadline, "the run never got going"
            record = record or _started(reports, proc.pid)
            time.sleep(0.1)
        folder = reports / "waiting" / record["tmp"]

        page = build_index(reports).read_text()
        assert not dead.exists() and folder.is_dir()
        row = _row_with(page, "label=live")
        assert "<td class='status running'>running</td>" in row and "being written" in row
        dead.mkdir()  # another killed run's folder
        run_report("weekly")  # any run starting clears stale folders too
        assert not dead.exists() and folder.is_dir()

        gate.touch()
        assert proc.wait(120) == 0
    finally:
        if proc.poll() is None:
            _kill(proc)
    assert {r["name"]: r["status"] for r in collect_runs(reports)} == {
        "waiting": "succeeded",
        "weekly": "succeeded",
    }
    assert unfinished_runs(reports) == [] and tmp_folders(reports / "waiting") == []


def test_finished_runs_are_never_listed_as_abandoned(report_home: Path) -> None:
    reports = report_home / "reports"
    good = run_report("weekly", {"days": 3})
    with pytest.raises(ReportExecutionError):
        run_report("broken")
    assert unfinished_runs(reports) == []
    # killed right after its folder was moved into place, before its record was dropped
    _record(reports, "weekly", attempt=good.manifest["attempt"], started_at=good.manifest["started_at"])  # fmt: skip
    page = build_index(reports).read_text()
    assert sorted(r["status"] for r in collect_runs(reports)) == ["failed", "succeeded"]
    assert len(_rows(page)) == 2
    assert "status abandoned" not in page and "status running" not in page
    assert "2 runs: 1 succeeded, 1 failed." in page


def test_the_index_shows_an_abandoned_run_with_its_start_time_and_parameters_but_no_links(
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports"
    started = "2026-11-02T06:15:02+00:00"
    _record(reports, "weekly", parameters={"days": 5}, started_at=started,
            heartbeat_at="2026-11-02T06:15:32+00:00", run_id="061502-1a2b3c4d",
            tmp="2026-11-02/.061502-1a2b3c4d.tmp-999999999")  # fmt: skip
    crashed = _record(reports, "broken", started_at="2026-11-02T07:00:00+00:00", pid=os.getpid(),
                      ended_at="2026-11-02T07:00:05+00:00",
                      error={"ename": "MemoryError", "evalue": "out of memory"})  # fmt: skip
    page = build_index(reports).read_text()
    weekly = _row_with(page, "days=5")
    assert "<td>weekly</td><td>2026-11-02</td><td>2 Nov 2026 06:15 UTC</td>" in weekly
    assert "<td class='status abandoned'>abandoned</td>" in weekly and "<a " not in weekly
    assert "no files" in weekly and "last heard from 2 Nov 2026 06:15 UTC" in weekly
    broken = _row_with(
        page, "<td>broken</td>"
    )  # its process is alive (this one), but the run ended
    assert "status abandoned" in broken and "MemoryError: out of memory" in broken
    assert "defaults" in broken
    assert "2 runs: 0 failed, 2 abandoned." in page
    assert ".status.abandoned{" in page  # styled apart from the rest
    assert crashed.exists()  # records stay: the index keeps listing them
    assert len(_rows(build_index(reports).read_text())) == 2


T0 = datetime(2026, 11, 2, 6, 15, tzinfo=UTC)
HERE = {"host": "ops-1", "pid_namespace": 7}
ELSEWHERE = {"host": "ops-2", "pid_namespace": 7}


@pytest.mark.parametrize(
    ("machine", "pid", "heartbeat_age_s", "ended", "expected"),
    [
        (HERE, os.getpid(), 5, False, "running"),
        (HERE, 999_999_999, 5, False, "abandoned"),  # killed
        (HERE, os.getpid(), 3600, False, "abandoned"),  # silent for an hour: PID reused
        (HERE, os.getpid(), 5, True, "abandoned"),  # an exception escaped the runner
        (ELSEWHERE, 999_999_999, 5, False, "running"),  # its PID means nothing here
        (ELSEWHERE, 999_999_999, 3600, False, "abandoned"),
    ],
    ids=["alive", "killed", "pid-reused", "error-escaped", "other-host", "other-host-silent"],
)
def test_a_run_is_running_while_its_process_lives_and_its_heartbeat_is_fresh(
    machine: dict[str, Any], pid: int, heartbeat_age_s: float, ended: bool, expected: str
) -> None:
    beat = (T0 - timedelta(seconds=heartbeat_age_s)).isoformat()
    record = {"pid": pid, **machine, "started_at": beat, "heartbeat_at": beat}
    if ended:
        record["ended_at"] = T0.isoformat()
    assert run_status(record, now=T0, here=HERE) == expected


def test_a_run_on_another_host_keeps_its_folder_until_its_heartbeat_goes_stale(
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports"
    folder = reports / "weekly" / "2026-11-02" / f".r.tmp-{os.getpid()}"  # a PID alive here too
    folder.mkdir(parents=True)
    beat = datetime.now(UTC)
    _record(reports, "weekly", host="elsewhere", heartbeat_at=beat.isoformat(),
            tmp="2026-11-02/" + folder.name)  # fmt: skip
    assert clear_stale(reports, now=beat + timedelta(minutes=1)) == []
    assert clear_stale(reports, now=beat + timedelta(hours=1)) == [folder]
    later = unfinished_runs(reports, now=beat + timedelta(hours=1))
    assert [r["status"] for r in later] == ["abandoned"]  # still listed, as abandoned


def test_the_start_record_beats_while_the_run_lives_and_ends_when_an_error_escapes(
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports"
    facts = {"name": "weekly", "started_at": datetime.now(UTC).isoformat(), "parameters": {}}
    with (
        pytest.raises(RuntimeError, match="disk on fire"),
        StartedRun(
            reports / "weekly", reports / "weekly" / "d" / ".r.tmp-1", facts, heartbeat_s=0.02
        ) as run,  # fmt: skip
    ):
        first = json.loads(run.path.read_text())["heartbeat_at"]
        deadline = time.monotonic() + 10
        while json.loads(run.path.read_text())["heartbeat_at"] == first:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.01)
        assert [r["status"] for r in unfinished_runs(reports)] == ["running"]
        raise RuntimeError("disk on fire")
    (record,) = unfinished_runs(reports)
    assert record["status"] == "abandoned" and record["error"]["ename"] == "RuntimeError"
