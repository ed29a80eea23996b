"""Start records: every report run leaves a trace, even one that was killed.

Before a run writes anything else it records that it started, in
``reports/<name>/.runs/<attempt>.json`` (:func:`opskit.reports.layout.record_path`),
outside its temporary folder so the record outlives it::

    {"attempt": "9f1c...", "status": "running", "name": "weekly", "run_id": "061502-1a2b3c4d",
     "logical_date": "2026-11-02", "parameters": {"days": 5}, "started_at": "2026-11-02T06:15:02+00:00",
     "heartbeat_at": "2026-11-02T06:15:32+00:00", "pid": 4242, "host": "ops-1",
     "pid_namespace": 4026531836, "tmp": "2026-11-02/.061502-1a2b3c4d.tmp-4242"}

While the run is alive a thread refreshes ``heartbeat_at`` every :data:`HEARTBEAT_S`.
A run that finishes (succeeded or failed) deletes its record: its ``run.json``, which
carries the same ``attempt``, is the trace from then on. A record that remains is
(:func:`run_status`):

- ``abandoned`` when it has ``ended_at`` (an exception escaped the runner);
- on the machine that wrote it (same host and PID namespace): ``running`` while its
  process is alive and its heartbeat is fresh, else ``abandoned`` (killed, or the
  PID was reused);
- elsewhere (a shared reports folder): ``running`` while its heartbeat is younger
  than :data:`STALE_HEARTBEAT_S`, else ``abandoned``.

:func:`clear_stale` removes the temporary folders of runs that are not running, and
keeps their records, so the index still lists them as abandoned. A temporary folder
with no record (written before records existed) is judged by the PID in its name.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

from opskit.reports import layout

__all__ = [
    "ABANDONED",
    "HEARTBEAT_S",
    "RUNNING",
    "STALE_HEARTBEAT_S",
    "StartedRun",
    "clear_stale",
    "run_status",
    "this_machine",
    "unfinished_runs",
]

logger = logging.getLogger(__name__)

RunState = Literal["running", "abandoned"]
#: A run whose process is alive and heartbeat fresh.
RUNNING: Final = "running"
#: A run that stopped without finishing (killed, crashed, or silent too long).
ABANDONED: Final = "abandoned"
#: How often a live run refreshes ``heartbeat_at``.
HEARTBEAT_S = 30.0
#: A heartbeat older than this means the run is gone (its process stopped or was reused).
STALE_HEARTBEAT_S = 600.0
#: A temporary folder without a record, older than this, is stale even if its PID is alive.
STALE_TMP_S = 24 * 3600.0


def this_machine() -> dict[str, Any]:
    """Where this process's PID means something: ``host`` and (on Linux) ``pid_namespace``.

    >>> sorted(this_machine())
    ['host', 'pid_namespace']
    """
    try:
        namespace: int | None = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = None
    return {"host": socket.gethostname(), "pid_namespace": namespace}


def _instant(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_status(
    record: dict[str, Any],
    *,
    now: datetime | None = None,
    here: dict[str, Any] | None = None,
) -> RunState:
    """Whether the run of a start record is still ``running`` or ``abandoned``.

    Parameters
    ----------
    record
        A start record (see the module docstring).
    now
        The current time (default: now, UTC).
    here
        ``host`` and ``pid_namespace`` of the machine judging (default: this one);
        only there can the record's ``pid`` be checked.

    Examples
    --------
    >>> rec = {"pid": 4242, "host": "ops-2", "pid_namespace": 1,
    ...        "heartbeat_at": "2026-11-02T06:15:30+00:00"}
    >>> run_status(rec, now=datetime(2026, 11, 2, 6, 16, tzinfo=UTC))
    'running'
    >>> run_status(rec, now=datetime(2026, 11, 2, 7, 0, tzinfo=UTC))
    'abandoned'
    >>> run_status({**rec, "ended_at": "2026-11-02T06:15:40+00:00"},
    ...            now=datetime(2026, 11, 2, 6, 16, tzinfo=UTC))
    'abandoned'
    """
    if record.get("ended_at"):
        return ABANDONED
    now = now or datetime.now(UTC)
    beat = _instant(record.get("heartbeat_at") or record.get("started_at"))
    if beat is None or (now - beat).total_seconds() > STALE_HEARTBEAT_S:
        return ABANDONED
    here = this_machine() if here is None else here
    if all(record.get(k) == here.get(k) for k in ("host", "pid_namespace")):
        pid = record.get("pid")
        return RUNNING if isinstance(pid, int) and layout.pid_alive(pid) else ABANDONED
    return RUNNING


def _records(report_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted((report_dir / layout.RUNS_DIR).glob("*.json")):
        if path.name.startswith("."):
            continue  # a record being replaced
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # its run just finished
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("unreadable start record %s: %s", path, exc)
            continue
        if isinstance(data, dict):
            out.append((path, data))
    return out


def unfinished_runs(
    root: Path, *, finished: Collection[str] = (), now: datetime | None = None
) -> list[dict[str, Any]]:
    """Runs under ``root`` that started and have not finished, newest first.

    Parameters
    ----------
    root
        The reports folder (``reports/``).
    finished
        ``attempt`` ids of runs that have a ``run.json``: a record left by a run
        killed after it was moved into place is not listed.
    now
        The current time (default: now, UTC).

    Returns
    -------
    list of dict
        Each start record with ``status`` set to ``running`` or ``abandoned``
        (:func:`run_status`) and ``record`` (its path relative to ``root``).
    """
    here, now = this_machine(), now or datetime.now(UTC)
    runs = []
    for report_dir in layout.report_dirs(root):
        for path, data in _records(report_dir):
            if data.get("attempt") in finished:
                continue
            status = run_status(data, now=now, here=here)
            runs.append({**data, "status": status, "record": path.relative_to(root).as_posix()})
    runs.sort(key=lambda r: str(r.get("started_at", "")), reverse=True)
    return runs


def clear_stale(root: Path, *, now: datetime | None = None) -> list[Path]:
    """Remove the temporary folders of runs under ``root`` that are no longer running.

    A folder whose run is alive (here or, by its heartbeat, on another host) is
    never touched; the records of dead runs are kept (the index lists them).

    Parameters
    ----------
    root
        The reports folder (``reports/``).
    now
        The current time (default: now, UTC).

    Returns
    -------
    list of Path
        The folders removed.
    """
    here, now = this_machine(), now or datetime.now(UTC)
    removed = []
    for report_dir in layout.report_dirs(root):
        # Folders first, records second: a run writes its record before its folder, so
        # every folder listed here has its record on disk by the time records are read.
        folders = layout.tmp_folders(report_dir)
        if not folders:
            continue
        owners: dict[Path, list[dict[str, Any]]] = {}
        for _, record in _records(report_dir):
            if record.get("tmp"):  # a reused PID and run id can give two records one folder
                owners.setdefault(report_dir / str(record["tmp"]), []).append(record)
        for folder in folders:
            records = owners.get(folder, [])
            if records:
                if any(run_status(r, now=now, here=here) == RUNNING for r in records):
                    continue
            elif _unrecorded_alive(folder, now):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            who = ", ".join(f"process {r.get('pid')} on {r.get('host')}" for r in records)
            logger.warning(
                "removed the half-written run %s (%s stopped)", folder, who or "its process"
            )
            removed.append(folder)
    return removed


def _unrecorded_alive(folder: Path, now: datetime) -> bool:
    """A temporary folder without a start record: alive while the PID in its name is."""
    match = layout.TMP_PATTERN.match(folder.name)
    if match is None:
        return False
    try:
        age = now.timestamp() - folder.stat().st_mtime
    except OSError:
        return True  # gone already (renamed into place or removed): leave it
    pid = int(match["pid"])
    return pid == os.getpid() or (layout.pid_alive(pid) and age < STALE_TMP_S)


class StartedRun:
    """The start record of one run, kept fresh by a heartbeat while the run is alive.

    Parameters
    ----------
    report_dir
        ``reports/<name>``.
    tmp
        The run's temporary folder (under ``report_dir``).
    facts
        What is known at the start (``name``, ``run_id``, ``logical_date``,
        ``parameters``, ``started_at``, ...), copied into the record.
    heartbeat_s
        How often the record is refreshed.

    Notes
    -----
    Use it as a context manager around the run and call :meth:`finished` once the
    run's folder is in place. Leaving the block without :meth:`finished` (an
    exception) marks the record ended: the run is then ``abandoned``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     weekly = Path(tmp) / "weekly"
    ...     facts = {"name": "weekly", "started_at": datetime.now(UTC).isoformat()}
    ...     with StartedRun(weekly, weekly / "2026-11-02" / ".r.tmp-1", facts) as run:
    ...         during = [r["status"] for r in unfinished_runs(Path(tmp))]
    ...         run.finished()
    ...     during, unfinished_runs(Path(tmp))
    (['running'], [])
    """

    def __init__(
        self,
        report_dir: Path,
        tmp: Path,
        facts: dict[str, Any],
        *,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.attempt = uuid.uuid4().hex
        self.path = layout.record_path(report_dir, self.attempt)
        self.heartbeat_s = heartbeat_s
        now = datetime.now(UTC).isoformat()
        self.record: dict[str, Any] = {
            **facts,
            "attempt": self.attempt,
            "status": RUNNING,
            "heartbeat_at": now,
            "pid": os.getpid(),
            **this_machine(),
            "tmp": tmp.relative_to(report_dir).as_posix(),
        }
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._beat: threading.Thread | None = None
        self._done = False

    def _write(self) -> None:
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                layout.write_atomic(self.path, json.dumps(self.record, indent=2, default=str))
            except OSError as exc:  # the run goes on; a stale record only shows it as abandoned
                logger.warning("could not write the start record %s: %s", self.path, exc)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            self.record["heartbeat_at"] = datetime.now(UTC).isoformat()
            self._write()

    def _stop_heartbeat(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None

    def __enter__(self) -> StartedRun:
        self._write()
        self._beat = threading.Thread(
            target=self._heartbeat, name=f"opskit-heartbeat-{self.attempt[:8]}", daemon=True
        )
        self._beat.start()
        return self

    def finished(self) -> None:
        """The run is in place (its ``run.json`` has this :attr:`attempt`): drop the record."""
        self._stop_heartbeat()
        self._done = True
        self.path.unlink(missing_ok=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop_heartbeat()
        if self._done:
            return
        self.record["ended_at"] = datetime.now(UTC).isoformat()
        if exc is not None:
            self.record["error"] = {"ename": type(exc).__name__, "evalue": str(exc)}
        self._write()
