"""Scheduler state on disk: per-job lock files and ``state.json``."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from opskit.reports import layout

__all__ = ["JobLock", "SchedulerState"]

logger = logging.getLogger(__name__)


class JobLock:
    """An exclusive, non-blocking lock file per job, recording who holds it.

    Parameters
    ----------
    path
        The lock file (``reports/.scheduler/<job>.lock``).

    Notes
    -----
    The lock is an ``flock`` on the file, so the kernel releases it when every
    holder has exited: a crash cannot leave a job locked forever. The file's
    JSON content (``pid``, ``child_pid``, ``since``) says who holds it; content
    found when the lock is free is a stale lock from a dead process.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.holder: dict[str, Any] = {}
        self.stale: dict[str, Any] = {}

    def _read(self, fd: int) -> dict[str, Any]:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096).decode("utf-8", "replace").strip()
        try:
            data = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            data = {"raw": raw[:200]}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        if self.fd is None:
            raise RuntimeError("lock not held")
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.write(self.fd, json.dumps(data).encode())
        os.fsync(self.fd)

    def acquire(self) -> bool:
        """Take the lock; ``False`` (with :attr:`holder` set) when someone holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.holder = self._read(fd)
            os.close(fd)
            return False
        self.fd = fd
        previous = self._read(fd)
        if previous:
            self.stale = previous
            pids = [previous.get(k) for k in ("pid", "child_pid") if previous.get(k)]
            logger.warning(
                "stale lock %s from %s (no longer running); taking it over",
                self.path.name,
                ", ".join(f"pid {p}" for p in pids) or "an unknown process",
            )
        self._write({"pid": os.getpid(), "since": datetime.now(UTC).isoformat()})
        return True

    def note_child(self, pid: int) -> None:
        """Record the PID of the child process running the job."""
        self._write({"pid": os.getpid(), "child_pid": pid, "since": datetime.now(UTC).isoformat()})

    def release(self) -> None:
        """Empty the file and drop the lock."""
        if self.fd is None:
            return
        os.ftruncate(self.fd, 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> JobLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def _flocked(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class SchedulerState:
    """Per-job records in ``<folder>/state.json``, updated atomically under a lock."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "state.json"

    def read(self) -> dict[str, dict[str, Any]]:
        """Every job's record (empty when there is no state yet)."""
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("unreadable scheduler state %s (%s); starting afresh", self.path, exc)
            return {}
        jobs = data.get("jobs") if isinstance(data, dict) else None
        return jobs if isinstance(jobs, dict) else {}

    def last_slot(self, job: str) -> datetime | None:
        """The last slot handled for ``job``."""
        raw = self.read().get(job, {}).get("last_slot")
        return datetime.fromisoformat(raw) if raw else None

    def record(self, job: str, record: dict[str, Any]) -> None:
        """Replace ``job``'s record (read-modify-write under ``state.lock``)."""
        with _flocked(self.folder / "state.lock"):
            jobs = self.read()
            jobs[job] = record
            layout.write_atomic(
                self.path, json.dumps({"version": 1, "jobs": jobs}, indent=2, default=str)
            )
