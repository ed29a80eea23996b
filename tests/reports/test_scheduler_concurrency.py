"""``Scheduler(jobs=N)``: due jobs at once, with the same retries, locks and state as one at a time.

The runner is a fake that blocks on barriers and events, so these tests start no
kernel; ``test_scheduler_cli.py`` runs real reports with ``--jobs 2``.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opskit.reports import build_index
from opskit.reports.jobs import RunOutcome, RunRequest
from opskit.reports.schedule import ScheduleEntry
from opskit.reports.scheduler import JobResult, Scheduler
from opskit.reports.state import SchedulerState

NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)


class Runner:
    """Thread-safe fake: records attempts, how many ran at once, and plays failures per job."""

    def __init__(self, fail: dict[str, int] | None = None, hold: float = 0.0) -> None:
        self.fail = dict(fail or {})
        self.hold = hold
        self.calls: list[RunRequest] = []
        self.running = self.peak = 0
        self._lock = threading.Lock()
        self.barrier: threading.Barrier | None = None

    def __call__(self, request: RunRequest) -> RunOutcome:
        with self._lock:
            self.calls.append(request)
            self.running += 1
            self.peak = max(self.peak, self.running)
            failing = self.fail.get(request.entry.key, 0) >= request.attempt
        try:
            if self.barrier is not None:
                self.barrier.wait(10)
            time.sleep(self.hold * random.random())
            return RunOutcome("failed", error="boom") if failing else RunOutcome("succeeded")
        finally:
            with self._lock:
                self.running -= 1


def _jobs(n: int, **kw) -> list[ScheduleEntry]:
    return [ScheduleEntry(f"r{i}", "0 6 * * *", **kw) for i in range(n)]


def _sched(home: Path, entries: list[ScheduleEntry], runner: Runner, **kw) -> Scheduler:
    return Scheduler(entries, home=home, runner=runner, clock=lambda: NOW, **kw)


def test_two_workers_run_two_jobs_at_once_and_report_in_schedule_order(tmp_path: Path) -> None:
    runner = Runner()
    runner.barrier = threading.Barrier(2)  # each run waits until a second one runs beside it
    seen: list[str] = []
    results = _sched(
        tmp_path, _jobs(4), runner, jobs=2, on_result=lambda r: seen.append(r.job)
    ).run_due()
    assert [(r.job, r.status) for r in results] == [(f"r{i}", "succeeded") for i in range(4)]
    assert runner.peak == 2 and sorted(seen) == ["r0", "r1", "r2", "r3"]
    assert (tmp_path / "reports" / "index.html").is_file()  # rebuilt once, after the pass


def test_one_worker_still_runs_jobs_one_after_another(tmp_path: Path) -> None:
    runner = Runner(hold=0.01)
    results = _sched(tmp_path, _jobs(3), runner).run_due()
    assert runner.peak == 1 and [c.entry.key for c in runner.calls] == ["r0", "r1", "r2"]
    assert len(results) == 3
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        _sched(tmp_path, _jobs(1), runner, jobs=0)


def test_state_stays_consistent_when_many_jobs_and_two_schedulers_run_at_once(
    tmp_path: Path,
) -> None:
    entries = _jobs(16)
    first, second = Runner(hold=0.05), Runner(hold=0.05)
    a = _sched(tmp_path, entries, first, jobs=4)
    b = _sched(tmp_path, entries[::-1], second, jobs=3)  # the other order: they meet mid-way
    with ThreadPoolExecutor(2) as pool:
        passes = [pool.submit(a.run_due), pool.submit(b.run_due)]
        results: list[JobResult] = [r for p in passes for r in p.result()]
    ran = [c.entry.key for c in first.calls + second.calls]
    assert sorted(ran) == sorted(e.key for e in entries)  # every job exactly once
    assert sum(r.status == "succeeded" for r in results) == 16
    assert all(r.status in ("succeeded", "skipped") for r in results)
    state = SchedulerState(tmp_path / "reports" / ".scheduler").read()
    assert sorted(state) == sorted(e.key for e in entries)
    assert {v["status"] for v in state.values()} == {"succeeded"}
    assert a.due() == [] and b.due() == []


def test_retries_and_backoff_stay_with_their_job_while_others_run(tmp_path: Path) -> None:
    entries = _jobs(3, retries=2, retry_backoff_s=5)
    runner = Runner(fail={"r0": 2, "r2": 9})  # r0 succeeds on its third attempt, r2 never
    waits: list[float] = []
    sched = _sched(tmp_path, entries, runner, jobs=3, sleep=waits.append)
    results = sched.run_due()
    assert [(r.job, r.status, r.attempts) for r in results] == [
        ("r0", "succeeded", 3), ("r1", "succeeded", 1), ("r2", "failed", 3),
    ]  # fmt: skip
    assert sorted(waits) == [5.0, 5.0, 10.0, 10.0]
    r0 = [c for c in runner.calls if c.entry.key == "r0"]
    assert [c.attempt for c in r0] == [1, 2, 3] and len({c.run_id for c in r0}) == 1
    state = SchedulerState(tmp_path / "reports" / ".scheduler").read()
    assert (state["r2"]["status"], state["r2"]["attempts"]) == ("failed", 3)


def test_a_stop_lets_running_jobs_finish_and_starts_no_new_one(tmp_path: Path) -> None:
    started, release = threading.Barrier(3), threading.Event()
    runner = Runner()

    def on_call(request: RunRequest) -> RunOutcome:
        outcome = runner(request)
        started.wait(10)
        assert release.wait(10)
        return outcome

    sched = Scheduler(_jobs(5), home=tmp_path, runner=on_call, clock=lambda: NOW, jobs=2)
    worker = threading.Thread(target=lambda: out.extend(sched.run_due()))
    out: list[JobResult] = []
    worker.start()
    started.wait(10)  # two jobs are running
    sched.stop()
    release.set()
    worker.join(10)
    assert [(r.job, r.status) for r in out] == [("r0", "succeeded"), ("r1", "succeeded")]
    fresh = Scheduler(_jobs(5), home=tmp_path, runner=runner, clock=lambda: NOW)
    assert [e.key for e, _, _ in fresh.due()] == ["r2", "r3", "r4"]  # left for the next pass


def test_runs_finishing_at_once_can_all_rebuild_the_index(tmp_path: Path) -> None:
    def rebuild(_: int) -> Path:
        return build_index(tmp_path / "reports")

    with ThreadPoolExecutor(4) as pool:  # parallel tasks of an orchestrator, each ending a run
        assert len(set(pool.map(rebuild, range(100)))) == 1
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["index.html"]
