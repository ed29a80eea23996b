"""The scheduler: due slots, catch-up once, no double start, retries, persisted state, publish.

Time is injected (a fake clock whose ``sleep`` advances it) and so is the runner
(a fake that records each attempt), so these tests start no kernel; the real
papermill path is covered in ``test_scheduler_cli.py``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nbformat as nbf
import pytest

from opskit.config import load_settings
from opskit.connectors import ConfluenceConnector, fakes
from opskit.errors import ConfigError
from opskit.reports import load_schedule, notebook_path, report_names
from opskit.reports.jobs import RunOutcome, RunRequest
from opskit.reports.params import validate
from opskit.reports.schedule import ScheduleEntry
from opskit.reports.scheduler import Scheduler
from opskit.reports.state import SchedulerState

T0 = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    """``now()`` and a ``sleep`` that moves time forward instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


class FakeRunner:
    """Records every attempt; plays a script of outcomes (default: success)."""

    def __init__(self, *script: RunOutcome, on_call: Callable[[RunRequest], None] | None = None):
        self.script = list(script)
        self.calls: list[RunRequest] = []
        self.on_call = on_call

    def __call__(self, request: RunRequest) -> RunOutcome:
        self.calls.append(request)
        if self.on_call is not None:
            self.on_call(request)
        return self.script.pop(0) if self.script else RunOutcome("succeeded")


def _scheduler(
    home: Path, entries: list[ScheduleEntry], runner: FakeRunner, clock: FakeClock, **kw
) -> Scheduler:
    return Scheduler(entries, home=home, runner=runner, clock=clock, sleep=clock.sleep, **kw)


def test_missed_slots_are_caught_up_once_not_once_per_slot(tmp_path: Path) -> None:
    hourly = ScheduleEntry("health", "0 * * * *")
    state = SchedulerState(tmp_path / "reports" / ".scheduler")
    state.record("health", {"last_slot": "2026-11-26T00:00:00+00:00", "status": "succeeded"})
    clock, runner = FakeClock(T0), FakeRunner()  # down from 00:00 to 05:30: five slots missed
    sched = _scheduler(tmp_path, [hourly], runner, clock)

    (result,) = sched.run_due()
    assert result.status == "succeeded" and result.missed == 4  # 01..04 skipped, 05:00 run
    assert [r.slot.hour for r in runner.calls] == [5]
    assert state.last_slot("health") == datetime(2026, 11, 26, 5, tzinfo=UTC)

    clock.now = T0 + timedelta(minutes=20)  # 05:50: the 05:00 slot is done
    assert sched.run_due() == [] and len(runner.calls) == 1
    clock.now = T0 + timedelta(minutes=31)  # 06:01: the next slot
    (result,) = sched.run_due()
    assert result.slot.hour == 6 and result.missed == 0 and len(runner.calls) == 2


def test_a_job_seen_for_the_first_time_runs_its_latest_slot_once(tmp_path: Path) -> None:
    clock, runner = FakeClock(T0), FakeRunner()
    sched = _scheduler(tmp_path, [ScheduleEntry("weekly", "0 6 * * 1")], runner, clock)
    assert [(e.name, slot.isoformat(), missed) for e, slot, missed in sched.due()] == [
        ("weekly", "2026-11-23T06:00:00+00:00", 0)
    ]
    sched.run_due()
    sched.run_due()
    assert len(runner.calls) == 1
    assert runner.calls[0].run_id == "sched-0600"
    assert runner.calls[0].slot.date().isoformat() == "2026-11-23"  # the logical date


def test_a_running_job_is_not_started_twice_by_a_second_scheduler(tmp_path: Path) -> None:
    entry = ScheduleEntry("daily", "0 5 * * *")
    started, release = threading.Event(), threading.Event()

    def block(request: RunRequest) -> None:
        started.set()
        assert release.wait(10)

    first = FakeRunner(on_call=block)
    second = FakeRunner()
    sched_a = _scheduler(tmp_path, [entry], first, FakeClock(T0))
    sched_b = _scheduler(tmp_path, [entry], second, FakeClock(T0))
    results: list = []
    worker = threading.Thread(target=lambda: results.extend(sched_a.run_due()))
    worker.start()
    try:
        assert started.wait(10)
        (skipped,) = sched_b.run_due()  # same slot, while the first run is going
        assert skipped.status == "skipped" and "already running" in skipped.error
        assert not skipped.is_failure and second.calls == []
    finally:
        release.set()
        worker.join(10)
    assert [r.status for r in results] == ["succeeded"]
    assert sched_b.run_due() == [] and second.calls == []  # done by A: not run again


def test_a_lock_held_by_another_process_blocks_and_a_dead_holders_lock_is_taken_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock_path = tmp_path / "reports" / ".scheduler" / "daily.lock"
    lock_path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import fcntl, json, os, sys, time\n"
            f"fd = os.open({str(lock_path)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.write(fd, json.dumps({'pid': os.getpid()}).encode())\n"
            "print('locked', flush=True)\ntime.sleep(60)\n"
        )],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        runner = FakeRunner()
        sched = _scheduler(tmp_path, [ScheduleEntry("daily", "0 5 * * *")], runner, FakeClock(T0))
        (skipped,) = sched.run_due()
        assert skipped.status == "skipped" and f"pid {holder.pid}" in skipped.error
        assert runner.calls == []
    finally:
        holder.kill()  # dies holding the lock: the file still names it
        holder.wait(10)
        assert holder.stdout is not None
        holder.stdout.close()
    assert json.loads(lock_path.read_text())["pid"] == holder.pid
    with caplog.at_level(logging.WARNING, logger="opskit.reports.state"):
        (result,) = sched.run_due()
    assert result.status == "succeeded" and len(runner.calls) == 1
    assert f"stale lock daily.lock from pid {holder.pid}" in caplog.text
    assert lock_path.read_text() == ""  # released after the run


def test_failures_are_retried_with_exponential_backoff_in_the_same_run_folder(
    tmp_path: Path,
) -> None:
    entry = ScheduleEntry("flaky", "0 5 * * *", retries=3, retry_backoff_s=10)
    clock = FakeClock(T0)
    runner = FakeRunner(RunOutcome("failed", error="boom 1"), RunOutcome("failed", error="boom 2"))
    (result,) = _scheduler(tmp_path, [entry], runner, clock).run_due()
    assert result.status == "succeeded" and result.attempts == 3
    assert clock.sleeps == [10.0, 20.0]
    assert [r.attempt for r in runner.calls] == [1, 2, 3]
    assert len({r.run_id for r in runner.calls}) == 1  # retries are idempotent per slot


def test_exhausted_retries_record_a_failure_and_bad_parameters_are_not_retried(
    tmp_path: Path,
) -> None:
    flaky = ScheduleEntry("flaky", "0 5 * * *", retries=1, retry_backoff_s=5)
    bad = ScheduleEntry("bad", "0 5 * * *", retries=4)
    clock = FakeClock(T0)
    runner = FakeRunner(
        RunOutcome("failed", error="cell 2 raised"),
        RunOutcome("failed", error="cell 2 raised again"),
        RunOutcome("failed", error="no parameter 'dayz'", retryable=False),
    )
    results = _scheduler(tmp_path, [flaky, bad], runner, clock).run_due()
    assert [(r.job, r.status, r.attempts) for r in results] == [
        ("flaky", "failed", 2),
        ("bad", "failed", 1),
    ]
    assert clock.sleeps == [5.0]
    jobs = SchedulerState(tmp_path / "reports" / ".scheduler").read()
    assert jobs["flaky"]["status"] == "failed" and jobs["flaky"]["error"] == "cell 2 raised again"
    assert jobs["bad"]["attempts"] == 1
    assert _scheduler(tmp_path, [flaky, bad], runner, clock).due() == []  # the slot is handled


def test_state_survives_a_restart_and_a_crash_mid_run_leaves_the_slot_due(
    tmp_path: Path,
) -> None:
    entry = ScheduleEntry("daily", "0 6 * * *")

    class Crash(BaseException):
        """The process dies mid-run (SIGKILL, power loss)."""

    def crash(request: RunRequest) -> None:
        raise Crash

    clock = FakeClock(datetime(2026, 11, 26, 6, 1, tzinfo=UTC))
    with pytest.raises(Crash):
        _scheduler(tmp_path, [entry], FakeRunner(on_call=crash), clock).run_due()
    restarted = FakeRunner()
    (result,) = _scheduler(tmp_path, [entry], restarted, clock).run_due()  # a new process
    assert result.status == "succeeded" and restarted.calls[0].slot.hour == 6
    state = json.loads((tmp_path / "reports" / ".scheduler" / "state.json").read_text())
    assert state["jobs"]["daily"]["last_slot"] == "2026-11-26T06:00:00+00:00"

    clock.now += timedelta(hours=3)
    again = FakeRunner()
    assert _scheduler(tmp_path, [entry], again, clock).run_due() == [] and again.calls == []
    clock.now += timedelta(days=3)  # down for three days: one catch-up run
    (result,) = _scheduler(tmp_path, [entry], again, clock).run_due()
    assert result.slot == datetime(2026, 11, 29, 6, tzinfo=UTC) and result.missed == 2


def test_long_running_mode_sleeps_until_the_next_slot_and_stops_when_asked(
    tmp_path: Path,
) -> None:
    entry = ScheduleEntry("daily", "0 6 * * *")
    SchedulerState(tmp_path / "reports" / ".scheduler").record(
        "daily", {"last_slot": "2026-11-25T06:00:00+00:00"}
    )
    clock, runner = FakeClock(datetime(2026, 11, 26, 5, 59, tzinfo=UTC)), FakeRunner()
    _scheduler(tmp_path, [entry], runner, clock).run_forever(max_passes=3)
    assert clock.sleeps == [60.0, 300.0]  # to 06:00, then naps of at most 5 minutes
    assert [r.slot.isoformat() for r in runner.calls] == ["2026-11-26T06:00:00+00:00"]

    sched = Scheduler(
        [entry], home=tmp_path, runner=runner, clock=clock
    )  # real, interruptible wait
    timer = threading.Timer(0.2, sched.stop)
    timer.start()
    sched.run_forever()  # returns once stopped, long before the next slot
    timer.join()


def test_a_stop_during_the_retry_wait_leaves_the_slot_for_the_next_start(tmp_path: Path) -> None:
    entry = ScheduleEntry("flaky", "0 5 * * *", retries=2, retry_backoff_s=600)
    runner = FakeRunner(RunOutcome("failed", error="boom"))
    sched = Scheduler([entry], home=tmp_path, runner=runner, clock=FakeClock(T0))
    sched.sleep = lambda seconds: sched.stop()  # SIGTERM arrives while waiting
    (result,) = sched.run_due()
    assert result.status == "interrupted" and result.attempts == 1
    assert SchedulerState(tmp_path / "reports" / ".scheduler").last_slot("flaky") is None


def _fake_run_folder(request: RunRequest) -> Path:
    """What a successful run leaves behind: run.json, the executed notebook, HTML."""
    name = request.entry.name
    folder = request.home / "reports" / name / request.slot.date().isoformat() / request.run_id
    folder.mkdir(parents=True)
    nb = nbf.v4.new_notebook()
    cell = nbf.v4.new_code_cell("print('x')")
    cell.outputs = [
        nbf.v4.new_output("stream", name="stdout", text="42 subscribers at risk & rising\n"),
        nbf.v4.new_output("display_data", data={"text/html": "<table><tr><td>a<br>b</td></tr></table><script>x()</script>"}),
        nbf.v4.new_output("display_data", data={"image/svg+xml": "<svg></svg>", "text/plain": "chart"}),
    ]  # fmt: skip
    nb.cells = [cell]
    nbf.write(nb, folder / f"{name}.ipynb")
    (folder / f"{name}.html").write_text("<html></html>")
    manifest = {"name": name, "status": "succeeded", "parameters": {"days": 7},
                "started_at": "2026-11-26T05:00:01+00:00",
                "provenance": [{"kind": "demo", "label": "DEMO DATA"}]}  # fmt: skip
    (folder / "run.json").write_text(json.dumps(manifest))
    return folder


class FolderRunner(FakeRunner):
    def __call__(self, request: RunRequest) -> RunOutcome:
        super().__call__(request)
        return RunOutcome("succeeded", folder=_fake_run_folder(request))


def _confluence(fake: fakes.ConfluenceFake, token: str = fakes.CONFLUENCE_TOKEN):
    return lambda: ConfluenceConnector(
        base_url="https://acme.atlassian.net", email=fakes.CONFLUENCE_EMAIL, api_token=token,
        space_key="OPS", transport=httpx.MockTransport(fake), sleep=lambda s: None,
    )  # fmt: skip


def test_successful_runs_are_published_to_confluence_only_when_writes_are_allowed(
    tmp_path: Path,
) -> None:
    entry = ScheduleEntry("weekly", "0 5 * * *", publish=True, publish_title="Weekly ops")
    fake = fakes.confluence()
    off = _scheduler(
        tmp_path, [entry], FolderRunner(), FakeClock(T0),
        settings=load_settings(allow_writes=False), confluence_factory=_confluence(fake),
    )  # fmt: skip
    (result,) = off.run_due()
    assert result.publish is not None and result.publish["status"] == "skipped"
    assert "allow_writes" in result.publish["reason"] and fake.pages == {}

    clock = FakeClock(T0 + timedelta(days=1))
    on = _scheduler(
        tmp_path, [entry], FolderRunner(), clock,
        settings=load_settings(allow_writes=True), confluence_factory=_confluence(fake),
    )  # fmt: skip
    (result,) = on.run_due()
    assert result.status == "succeeded" and result.publish is not None
    assert result.publish["status"] == "published" and result.publish["action"] == "created"
    manifest = json.loads((result.folder / "run.json").read_text())
    assert manifest["publish"]["status"] == "published"
    assert manifest["schedule"]["job"] == "weekly" and manifest["schedule"]["attempts"] == 1
    (page,) = fake.pages.values()
    assert page["title"] == "Weekly ops"
    body = page["body"]
    assert "42 subscribers at risk &amp; rising" in body and "<td>a<br/>b</td>" in body
    assert "<script" not in body and "<svg" not in body and "[chart: see the HTML report]" in body


def test_a_publish_failure_is_recorded_without_failing_the_run_or_leaking_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "ATATT-not-the-right-token-000"
    entry = ScheduleEntry("weekly", "0 5 * * *", publish=True)
    sched = _scheduler(
        tmp_path, [entry], FolderRunner(), FakeClock(T0),
        settings=load_settings(allow_writes=True),
        confluence_factory=_confluence(fakes.confluence(), token=secret),
    )  # fmt: skip
    with caplog.at_level(logging.INFO):
        (result,) = sched.run_due()
    assert result.status == "succeeded" and not result.is_failure
    assert result.publish is not None and result.publish["status"] == "failed"
    run_json = (result.folder / "run.json").read_text()
    assert json.loads(run_json)["publish"]["error"].startswith("AuthError")
    assert secret not in run_json and secret not in caplog.text
    state = SchedulerState(tmp_path / "reports" / ".scheduler").read()
    assert state["weekly"]["status"] == "succeeded"


def test_schedule_files_get_retries_timeouts_defaults_and_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "schedule.toml"
    path.write_text(
        "[defaults]\nretries = 2\nretry_backoff_s = 30\n\n"
        '[[report]]\nname = "weekly"\ncron = "0 6 * * 1"\ntimeout_s = 60\n\n'
        '[[report]]\nname = "weekly"\nid = "weekly-long"\ncron = "0 7 * * 1"\nretries = 0\n'
        "parameters = { days = 28 }\npublish = true\n"
    )
    short, long = load_schedule(path, known_reports=["weekly"])
    assert (short.key, short.retries, short.retry_backoff_s, short.timeout_s) == (
        "weekly", 2, 30.0, 60.0,
    )  # fmt: skip
    assert (long.key, long.retries, long.publish, long.parameters) == (
        "weekly-long", 0, True, {"days": 28},
    )  # fmt: skip
    assert short.backoff(1) == 30 and short.backoff(3) == 120 and short.backoff(30) == 3600
    for text, message in [
        ('[[report]]\nname = "w"\ncron = "* * * * *"\nretrys = 1', "unknown key 'retrys'; valid"),
        ('[[report]]\nname = "w"\ncron = "* * * * *"\nretries = -1', "retries must be"),
        ('[[report]]\nname = "w"\ncron = "* * * * *"\ntimeout_s = 0', "timeout_s must be > 0"),
        ('[[report]]\nname = "w"\ncron = "* * * * *"\npublish = "yes"', "publish must be"),
        ('[[report]]\nname="w"\ncron="* * * * *"\n[[report]]\nname="w"\ncron="0 * * * *"',
         "job id 'w' is used twice"),
        ('[defaults]\ncron = "* * * * *"', r"\[defaults\] may set only"),
    ]:  # fmt: skip
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_schedule(path)


def test_the_committed_schedule_names_real_notebooks_with_valid_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPSKIT_HOME", str(REPO))
    names = report_names(REPO)
    if not names:
        pytest.skip("the analysis notebooks are not there yet")
    entries = load_schedule(REPO / "reports" / "schedule.toml", known_reports=names)
    assert {"executive_summary", "service_health"} <= {e.name for e in entries}
    for entry in entries:
        validate(notebook_path(entry.name, REPO), entry.parameters)


def test_a_broken_schedule_edit_keeps_the_last_good_schedule(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "schedule.toml"
    path.write_text('[[report]]\nname = "daily"\ncron = "0 5 * * *"\n')
    runner = FakeRunner()
    sched = Scheduler(path, home=tmp_path, runner=runner, clock=FakeClock(T0), check_names=False)
    assert [e.name for e in sched.entries()] == ["daily"]
    path.write_text("[[report]\n")
    with caplog.at_level(logging.ERROR):
        assert len(sched.run_due()) == 1
    assert "invalid TOML" in caplog.text and "keeping the previous schedule" in caplog.text
    with pytest.raises(ConfigError, match="invalid TOML"):
        Scheduler(path, home=tmp_path).entries()  # a fresh start refuses it


def test_an_attempt_over_its_timeout_is_killed_with_its_process_group(tmp_path: Path) -> None:
    from opskit.reports.jobs import subprocess_runner

    entry = ScheduleEntry("weekly", "0 5 * * *", timeout_s=0.5)  # killed while starting up
    spawned: list[int] = []
    request = RunRequest(entry, T0, 1, tmp_path, on_spawn=spawned.append)
    outcome = subprocess_runner(request)
    assert outcome.status == "failed" and outcome.retryable
    assert outcome.error == "timed out after 0.5 s (killed)"
    (pid,) = spawned
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
