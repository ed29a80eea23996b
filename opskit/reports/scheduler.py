"""Run the jobs of ``reports/schedule.toml`` when they are due.

``opskit schedule run --once`` runs whatever is due and exits (from cron or
CI; non-zero if a job failed); ``opskit schedule run`` keeps running and
sleeps until the next due time (SIGINT/SIGTERM stop it between jobs).

Semantics
---------
- **Slots.** Each job's cron expression (UTC) defines its slots. A job is due
  when its most recent slot at or before *now* has not been handled yet.
- **Catch-up once.** After downtime only the most recent missed slot runs;
  the older ones are counted (``missed``), logged and skipped. A job seen for
  the first time (no state) runs its most recent slot once.
- **State** lives in ``reports/.scheduler/state.json`` (per job: the last
  handled slot, status, attempts, run folder, error), written atomically under
  a lock, so a restarted scheduler carries on where it stopped. A slot counts
  as handled when its last attempt has ended, successfully or not; a
  scheduler killed mid-run leaves the slot unhandled, so it runs again on
  restart.
- **No double start.** A job holds ``reports/.scheduler/<job>.lock`` (an
  exclusive ``flock``; the file records the PIDs) while it runs, including its
  retries; a second scheduler skips the job (status ``skipped``). The lock is
  also held by the report's child process, so even a killed scheduler cannot
  start a job whose run is still going. A lock left by a dead process is
  detected (its PID is gone and the ``flock`` is free), logged and taken over.
- **Retries.** A failed attempt is retried ``retries`` times after
  ``retry_backoff_s * 2 ** (n - 1)`` seconds (at most one hour); bad
  parameters or an unknown report are not retried. All attempts of a slot use
  the same run id (``sched-HHMM``), so the slot has one run folder; its
  ``run.json`` gets a ``schedule`` block (job, slot, attempts, errors of the
  earlier attempts).
- **Timeout.** By default each attempt runs in a child process
  (``python -m opskit.reports._job``) killed after ``timeout_s``; its half
  written run folder is removed and its start record stays, so the index lists
  it as abandoned (:func:`opskit.reports.journal.clear_stale`).
- **Publish.** After a success, jobs with ``publish = true`` are published to
  Confluence when it is configured and ``allow_writes`` is true
  (:func:`opskit.reports.publish.publish_run`); a publish failure is logged
  and recorded in ``run.json`` and does not fail the run.

- **Concurrency.** Up to ``jobs`` due jobs run at once (``opskit schedule run
  --jobs N``; default one at a time, in schedule order). Each attempt still runs
  in its own child process; a scheduler thread per running job waits on it,
  and that job's retries and backoff stay in its thread. The per-job locks and
  the ``state.json`` update (read-modify-write under ``state.lock``, an
  ``flock`` that threads and processes alike respect) keep one consistent
  record per job under any mix of threads and schedulers. Results are
  reported as jobs end and returned in schedule order; a stop lets running
  attempts finish and starts no new job.
- **Matrix jobs** (:mod:`opskit.reports.matrix`) are jobs like any other: one
  state record, lock and run folder per combination and slot.

Time is injectable (``clock``, ``sleep``) and so is the runner, for tests.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from croniter import croniter

from opskit.errors import ConfigError
from opskit.reports import layout
from opskit.reports.index import build_index
from opskit.reports.jobs import JobRunner, RunOutcome, RunRequest, subprocess_runner
from opskit.reports.publish import publish_run
from opskit.reports.runner import NOTEBOOK_DIR, report_names
from opskit.reports.schedule import ScheduleEntry, load_schedule
from opskit.reports.state import JobLock, SchedulerState

__all__ = ["JobResult", "Scheduler"]

logger = logging.getLogger(__name__)

STATE_DIR = ".scheduler"
#: Longest single sleep of the long-running mode (the schedule file is re-read after it).
MAX_NAP_S = 300.0
_MISSED_CAP = 10_000

JobStatus = Literal["succeeded", "failed", "skipped", "interrupted"]


@dataclass(frozen=True)
class JobResult:
    """How a job's slot was handled in one scheduler pass."""

    job: str
    name: str
    slot: datetime
    status: JobStatus
    attempts: int = 0
    missed: int = 0
    folder: Path | None = None
    error: str = ""
    publish: dict[str, Any] | None = None

    @property
    def is_failure(self) -> bool:
        """Whether the slot ended failed (``skipped`` and ``interrupted`` are not failures)."""
        return self.status == "failed"


# -- the scheduler -------------------------------------------------------------------------------
def _utcnow() -> datetime:
    return datetime.now(UTC)


def _missed(entry: ScheduleEntry, last: datetime, slot: datetime) -> int:
    """Slots strictly between ``last`` and ``slot`` (they are skipped, not run)."""
    it = croniter(entry.cron, last)
    count = 0
    while count < _MISSED_CAP:
        nxt: datetime = it.get_next(datetime)
        if nxt >= slot:
            break
        count += 1
    return count


@dataclass
class Scheduler:
    """Runs due jobs; see the module docstring for the semantics.

    Parameters
    ----------
    schedule
        The schedule file (re-read on every pass; a broken edit keeps the last
        good schedule in the long-running mode) or a fixed list of entries.
    home
        Project home (``reports/`` and ``notebooks/analyses/`` under it).
    runner
        Runs one attempt (default :func:`subprocess_runner`).
    clock
        Current time, timezone-aware UTC.
    sleep
        Waits (default: an interruptible wait on the stop event).
    settings
        opskit settings for publishing (default: loaded when first needed).
    confluence_factory
        Builds the Confluence connector (default: from ``settings``).
    check_names
        Reject jobs naming a report notebook that does not exist.
    on_result
        Called with each :class:`JobResult` as it is known (from the job's thread,
        one call at a time).
    jobs
        How many due jobs run at once (default 1: one after another).
    """

    schedule: Path | list[ScheduleEntry]
    home: Path
    runner: JobRunner = subprocess_runner
    clock: Callable[[], datetime] = _utcnow
    sleep: Callable[[float], Any] | None = None
    settings: Any = None
    confluence_factory: Callable[[], Any] | None = None
    check_names: bool = True
    on_result: Callable[[JobResult], None] | None = None
    jobs: int = 1
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _entries: list[ScheduleEntry] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise ValueError(f"jobs must be a positive integer, got {self.jobs!r}")

    @property
    def reports(self) -> Path:
        """The reports folder (``<home>/reports``)."""
        return self.home / "reports"

    @property
    def state(self) -> SchedulerState:
        """The persisted per-job state (``reports/.scheduler/state.json``)."""
        return SchedulerState(self.reports / STATE_DIR)

    def stop(self) -> None:
        """Ask the long-running mode (and any retry wait) to stop."""
        self._stop.set()

    def entries(self) -> list[ScheduleEntry]:
        """The current jobs, matrix jobs expanded (the schedule file is re-read each time).

        With ``check_names``, every job's report must exist and its parameters
        pass the notebook's checks.

        Raises
        ------
        ConfigError
            If the file is invalid and no earlier good version was read.
        """
        if not isinstance(self.schedule, Path):
            return list(self.schedule)
        known = report_names(self.home) if self.check_names else None
        notebooks = self.home / NOTEBOOK_DIR if self.check_names else None
        try:
            self._entries = load_schedule(self.schedule, known_reports=known, notebooks=notebooks)
        except ConfigError as exc:
            if self._entries is None:
                raise
            logger.error("%s; keeping the previous schedule", exc)
        return list(self._entries)

    def due(self, now: datetime | None = None) -> list[tuple[ScheduleEntry, datetime, int]]:
        """Jobs due at ``now``: ``(entry, slot to run, number of older missed slots)``."""
        now = now or self.clock()
        jobs = self.state.read()
        out = []
        for entry in self.entries():
            slot = entry.latest_slot(now)
            raw = jobs.get(entry.key, {}).get("last_slot")
            last = datetime.fromisoformat(raw) if raw else None
            if last is None or last < slot:
                out.append((entry, slot, _missed(entry, last, slot) if last else 0))
        return out

    def next_due(self, now: datetime | None = None) -> datetime | None:
        """When the next slot of any job comes (``None`` with no jobs)."""
        now = now or self.clock()
        times = [e.next_run(now) for e in self.entries()]
        return min(times) if times else None

    def run_due(self) -> list[JobResult]:
        """Run every job that is due now, up to :attr:`jobs` at once; rebuild the index.

        Returns
        -------
        list of JobResult
            One per job started, in schedule order (jobs not started because of
            :meth:`stop` are left out).
        """
        due = self.due()
        workers = max(1, min(self.jobs, len(due)))
        if workers == 1:
            done = [self._run_unless_stopped(*item) for item in due]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="opskit-job") as pool:
                futures = [pool.submit(self._run_unless_stopped, *item) for item in due]
                done = [f.result() for f in futures]
        results = [r for r in done if r is not None]
        if any(r.status in ("succeeded", "failed") for r in results):
            try:
                build_index(self.reports)
            except OSError as exc:
                logger.error("could not rebuild the report index: %s", exc)
        return results

    def run_forever(self, *, max_passes: int | None = None) -> None:
        """Run due jobs, sleep until the next slot, repeat until :meth:`stop`."""
        passes = 0
        while not self._stop.is_set():
            self.run_due()
            passes += 1
            if max_passes is not None and passes >= max_passes:
                return
            now = self.clock()
            nxt = self.next_due(now)
            nap = MAX_NAP_S if nxt is None else (nxt - now).total_seconds()
            nap = min(max(nap, 0.0), MAX_NAP_S)
            logger.debug("next slot %s; sleeping %.0f s", nxt, nap)
            self._wait(nap)

    def _wait(self, seconds: float) -> None:
        if self.sleep is not None:
            self.sleep(seconds)
        else:
            self._stop.wait(seconds)

    def _emit(self, result: JobResult) -> JobResult:
        if self.on_result is not None:
            with self._lock:
                self.on_result(result)
        return result

    def _run_unless_stopped(
        self, entry: ScheduleEntry, slot: datetime, missed: int
    ) -> JobResult | None:
        if self._stop.is_set():
            return None
        return self.run_job(entry, slot, missed=missed)

    def run_job(self, entry: ScheduleEntry, slot: datetime, *, missed: int = 0) -> JobResult:
        """Run ``entry`` for ``slot`` with retries, unless it is running or already done."""
        key = entry.key
        if missed:
            logger.warning(
                "%s: %d missed slot(s) before %s are skipped; catching up once", key, missed, slot
            )
        lock = JobLock(self.reports / STATE_DIR / f"{entry.slug}.lock")
        if not lock.acquire():
            who = ", ".join(f"{k} {v}" for k, v in lock.holder.items() if k.endswith("pid"))
            logger.warning("%s is already running (%s); not starting it twice", key, who or "?")
            return self._emit(
                JobResult(key, entry.name, slot, "skipped", error=f"already running ({who})")
            )
        try:
            last = self.state.last_slot(key)
            if last is not None and last >= slot:  # another scheduler finished it meanwhile
                return self._emit(
                    JobResult(key, entry.name, slot, "skipped", error="already handled")
                )
            return self._emit(self._attempts(entry, slot, missed, lock))
        finally:
            lock.release()

    def _attempts(
        self, entry: ScheduleEntry, slot: datetime, missed: int, lock: JobLock
    ) -> JobResult:
        key = entry.key
        errors: list[str] = []
        outcome = RunOutcome("failed", error="not started")
        attempt = 0
        for attempt in range(1, entry.retries + 2):
            if attempt > 1:
                wait = entry.backoff(attempt - 1)
                logger.warning(
                    "%s: attempt %d failed (%s); retry in %.0f s",
                    key,
                    attempt - 1,
                    errors[-1],
                    wait,
                )
                self._wait(wait)
                if self._stop.is_set():
                    return JobResult(
                        key, entry.name, slot, "interrupted", attempt - 1, missed,
                        outcome.folder, "stopped while waiting to retry",
                    )  # fmt: skip
            request = RunRequest(
                entry, slot, attempt, self.home, keep_fds=() if lock.fd is None else (lock.fd,),
                on_spawn=lock.note_child,
            )  # fmt: skip
            outcome = self._call(request)
            if outcome.status == "succeeded":
                break
            errors.append(outcome.error)
            if not outcome.retryable:
                break
        publish = None
        if outcome.folder is not None and (outcome.folder / layout.RUN_JSON).is_file():
            try:
                _annotate(outcome.folder, {
                    "job": key, "slot": slot.isoformat(), "attempts": attempt,
                    "missed_slots": missed, "failed_attempts": errors,
                })  # fmt: skip
                if outcome.status == "succeeded" and entry.publish:
                    publish = self._publish(entry, outcome.folder)
            except (OSError, ValueError) as exc:  # a damaged run.json must not stop the scheduler
                logger.error("%s: could not update %s/run.json: %s", key, outcome.folder, exc)
        status: JobStatus = outcome.status
        folder = outcome.folder
        self.state.record(key, {
            "name": entry.name, "last_slot": slot.isoformat(), "status": status,
            "attempts": attempt, "missed_slots": missed,
            "finished_at": self.clock().isoformat(),
            "run": str(folder.relative_to(self.reports)) if folder and folder.is_relative_to(self.reports) else None,
            "error": "" if status == "succeeded" else outcome.error,
        })  # fmt: skip
        log = logger.info if status == "succeeded" else logger.error
        log("%s @ %s: %s after %d attempt(s)", key, slot.isoformat(), status, attempt)
        error = "" if status == "succeeded" else outcome.error
        return JobResult(key, entry.name, slot, status, attempt, missed, folder, error, publish)

    def _call(self, request: RunRequest) -> RunOutcome:
        try:
            return self.runner(request)
        except (OSError, subprocess.SubprocessError, ValueError, RuntimeError) as exc:
            logger.exception("%s: the runner itself failed", request.entry.key)
            return RunOutcome("failed", error=f"{type(exc).__name__}: {exc}")

    def _publish(self, entry: ScheduleEntry, folder: Path) -> dict[str, Any]:
        with self._lock:
            if self.settings is None:
                from opskit.config import load_settings

                self.settings = load_settings()
        title = entry.publish_title or f"{entry.name} report"
        return publish_run(
            folder, title=title, settings=self.settings, connector_factory=self.confluence_factory
        )


def _annotate(folder: Path, block: dict[str, Any]) -> None:
    path = folder / layout.RUN_JSON
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schedule"] = block
    layout.write_atomic(path, json.dumps(data, indent=2, default=str))
