"""How one attempt of a scheduled job is run: in a child process, with a wall-clock timeout.

A runner is any callable ``RunRequest -> RunOutcome``; tests inject fakes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from opskit.reports import journal
from opskit.reports.schedule import ScheduleEntry

__all__ = ["JobRunner", "RunOutcome", "RunRequest", "subprocess_runner"]

_KILL_GRACE_S = 10.0


@dataclass(frozen=True)
class RunRequest:
    """One attempt of a job at a slot, as handed to a runner."""

    entry: ScheduleEntry
    slot: datetime
    attempt: int
    home: Path
    keep_fds: tuple[int, ...] = ()
    on_spawn: Callable[[int], None] | None = None

    @property
    def run_id(self) -> str:
        """Run folder name, the same for every attempt and every executor of the slot.

        ``sched-HHMM[-<run label>]`` (:attr:`ScheduleEntry.run_label`: the job id, and
        the matrix values of a matrix job), under ``reports/<name>/<slot date>/``.

        >>> from datetime import UTC
        >>> job = ScheduleEntry("executive_summary", "0 6 * * *", matrix={"region": "brazil"})
        >>> RunRequest(job, datetime(2026, 11, 26, 6, tzinfo=UTC), 1, Path(".")).run_id
        'sched-0600-region-brazil'
        """
        label = self.entry.run_label
        return f"sched-{self.slot:%H%M}-{label}" if label else f"sched-{self.slot:%H%M}"


@dataclass(frozen=True)
class RunOutcome:
    """How one attempt ended."""

    status: Literal["succeeded", "failed"]
    folder: Path | None = None
    error: str = ""
    retryable: bool = True


#: Runs one attempt.
JobRunner = Callable[[RunRequest], RunOutcome]


# -- runners -------------------------------------------------------------------------------------
def subprocess_runner(request: RunRequest) -> RunOutcome:
    """Run the attempt in a child process, killed (with its process group) after ``timeout_s``.

    The child inherits the job's lock (``keep_fds``), so the lock stays held
    while the run is alive even if the scheduler dies.
    """
    entry = request.entry
    spec = {
        "name": entry.name, "parameters": entry.parameters, "run_id": request.run_id,
        "logical_date": request.slot.date().isoformat(), "home": str(request.home),
        "cell_timeout_s": entry.timeout_s,
    }  # fmt: skip
    env = {**os.environ, "OPSKIT_HOME": str(request.home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "opskit.reports._job", json.dumps(spec, default=str)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(request.home),
        start_new_session=True,
        pass_fds=request.keep_fds,
    )
    if request.on_spawn is not None:
        request.on_spawn(proc.pid)
    try:
        stdout, stderr = proc.communicate(timeout=entry.timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        journal.clear_stale(request.home / "reports")
        return RunOutcome("failed", error=f"timed out after {entry.timeout_s:g} s (killed)")
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    try:
        data: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        data = {}
    if proc.returncode == 0 and data.get("status") == "succeeded":
        return RunOutcome("succeeded", folder=Path(data["folder"]))
    error = data.get("error") or (stderr.strip().splitlines() or ["no output"])[-1]
    folder = data.get("folder")
    return RunOutcome(
        "failed",
        folder=Path(folder) if folder else None,
        error=f"exit {proc.returncode}: {error}",
        retryable=bool(data.get("retryable", True)),
    )


def _kill_group(proc: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.communicate(timeout=_KILL_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue
