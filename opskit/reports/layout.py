"""The on-disk layout of report runs: the ``latest`` pointer and stale temporary folders.

A run is written to ``reports/<name>/<date>/.<run-id>.tmp-<pid>/`` and renamed to
``reports/<name>/<date>/<run-id>/`` when complete, so a reader (the index, a
browser) only ever sees whole runs. A process killed mid-run leaves its
``.tmp-<pid>`` folder behind; :func:`clean_stale_tmp` removes those whose
process is gone (the runner calls it before every run).

After a successful run ``reports/<name>/latest.json`` (a summary, always written)
and ``reports/<name>/latest`` (a relative symlink to the run folder, where the
file system supports symlinks) point at it. A failed run never moves either.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

__all__ = [
    "LATEST_JSON",
    "RUN_JSON",
    "RUN_LOG",
    "TMP_PATTERN",
    "clean_stale_tmp",
    "csv_name",
    "html_name",
    "notebook_name",
    "pdf_name",
    "pid_alive",
    "point_latest",
    "tmp_folder",
]

logger = logging.getLogger(__name__)

#: The run manifest in every run folder, and the pointer to a report's last good run.
RUN_JSON = "run.json"
LATEST_JSON = "latest.json"
#: What the kernel logged during a run (never shown in the report page itself).
RUN_LOG = "run.log"


def html_name(report: str) -> str:
    """The report page of a run folder."""
    return f"{report}.html"


def pdf_name(report: str) -> str:
    """The printable copy of the report page."""
    return f"{report}.pdf"


def notebook_name(report: str) -> str:
    """The executed notebook of a run folder."""
    return f"{report}.ipynb"


def csv_name(report: str, table: str) -> str:
    """The CSV file of one of the report's tables."""
    return f"{report}-{table}.csv"


#: Name of a run's temporary folder: ``.<run-id>.tmp-<pid>``.
TMP_PATTERN = re.compile(r"^\.(?P<run_id>.+)\.tmp-(?P<pid>\d+)$")
#: A temporary folder older than this is stale even if its PID was reused.
STALE_AFTER_S = 24 * 3600.0


def tmp_folder(final: Path, pid: int | None = None) -> Path:
    """The temporary folder a run destined for ``final`` is written to."""
    return final.with_name(f".{final.name}.tmp-{os.getpid() if pid is None else pid}")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (on this host)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def clean_stale_tmp(report_dir: Path, *, now: float | None = None) -> list[Path]:
    """Remove temporary run folders left by dead processes under ``reports/<name>/``.

    Parameters
    ----------
    report_dir
        ``reports/<name>`` (its ``<date>/.<run-id>.tmp-<pid>`` folders are checked).
    now
        Current time (``time.time()``), for tests.

    Returns
    -------
    list of Path
        The folders removed.
    """
    now = time.time() if now is None else now
    removed = []
    for folder in report_dir.glob("*/.*.tmp-*"):
        match = TMP_PATTERN.match(folder.name)
        if not match or not folder.is_dir():
            continue
        pid = int(match["pid"])
        try:
            age = now - folder.stat().st_mtime
        except OSError:
            continue
        if pid == os.getpid() or (pid_alive(pid) and age < STALE_AFTER_S):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        logger.warning("removed the half-written run %s (process %d is gone)", folder, pid)
        removed.append(folder)
    return removed


def point_latest(report_dir: Path, folder: Path) -> Path | None:
    """Point the ``report_dir/latest`` symlink at ``folder`` (atomically).

    Returns the link, or ``None`` where symlinks are not supported (then only
    ``latest.json`` points at the last success).
    """
    link = report_dir / "latest"
    tmp = report_dir / f".latest.tmp-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(folder.relative_to(report_dir), target_is_directory=True)
        os.replace(tmp, link)
    except (OSError, ValueError) as exc:
        logger.warning("could not point %s at %s: %s (latest.json still does)", link, folder, exc)
        tmp.unlink(missing_ok=True)
        return None
    return link
