"""The on-disk layout of report runs: run folders, start records, the ``latest`` pointer.

A run is written to ``reports/<name>/<date>/.<run-id>.tmp-<pid>/`` and renamed to
``reports/<name>/<date>/<run-id>/`` when complete, so a reader (the index, a
browser) only ever sees whole runs. Before it starts, a run records that it did
in ``reports/<name>/.runs/<attempt>.json`` (:mod:`opskit.reports.journal`), so a
run killed mid-way still leaves a trace, and its temporary folder can be told
apart from one that is still being written.

After a successful run ``reports/<name>/latest.json`` (a summary, always written)
and ``reports/<name>/latest`` (a relative symlink to the run folder, where the
file system supports symlinks) point at it. A failed run never moves either.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

__all__ = [
    "LATEST_JSON",
    "RUNS_DIR",
    "RUN_JSON",
    "RUN_LOG",
    "TMP_PATTERN",
    "csv_name",
    "html_name",
    "notebook_name",
    "pdf_name",
    "pid_alive",
    "point_latest",
    "record_path",
    "report_dirs",
    "tmp_folder",
    "tmp_folders",
    "write_atomic",
]

logger = logging.getLogger(__name__)

#: The run manifest in every run folder, and the pointer to a report's last good run.
RUN_JSON = "run.json"
LATEST_JSON = "latest.json"
#: What the kernel logged during a run (never shown in the report page itself).
RUN_LOG = "run.log"
#: Start records of a report's runs: ``reports/<name>/.runs/<attempt>.json``.
RUNS_DIR = ".runs"


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


def tmp_folder(final: Path, pid: int | None = None) -> Path:
    """The temporary folder a run destined for ``final`` is written to."""
    return final.with_name(f".{final.name}.tmp-{os.getpid() if pid is None else pid}")


def tmp_folders(report_dir: Path) -> list[Path]:
    """The temporary run folders under ``reports/<name>/<date>/``."""
    return sorted(
        p for p in report_dir.glob("*/.*.tmp-*") if TMP_PATTERN.match(p.name) and p.is_dir()
    )


def record_path(report_dir: Path, attempt: str) -> Path:
    """The start record of one run (attempt) of the report in ``report_dir``."""
    return report_dir / RUNS_DIR / f"{attempt}.json"


def report_dirs(root: Path) -> list[Path]:
    """The ``reports/<name>`` folders under ``root`` (hidden state folders left out)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def pid_alive(pid: int) -> bool:
    """Whether a process with this id is running on this host (a zombie is not).

    >>> pid_alive(os.getpid()), pid_alive(0)
    (True, False)
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:  # killed but not yet reaped by its parent: gone for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:  # no /proc (not Linux), or it exited just now
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


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


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new, never half.

    The text goes to a hidden temporary file of this process and thread first (runs,
    schedulers and orchestrator tasks finishing at once each write their own), which
    then replaces ``path``.

    >>> import tempfile
    >>> out = write_atomic(Path(tempfile.mkdtemp()) / "index.html", "<p>ok</p>")
    >>> out.read_text(), [p.name for p in out.parent.iterdir()]
    ('<p>ok</p>', ['index.html'])
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
