"""Scheduled and on-demand reports: papermill runs, offline HTML, run index, schedule."""

from __future__ import annotations

from opskit.reports.index import build_index, collect_runs
from opskit.reports.journal import clear_stale, unfinished_runs
from opskit.reports.runner import KERNEL, ReportRun, notebook_path, report_names, run_report
from opskit.reports.schedule import ScheduleEntry, crontab_lines, load_schedule, next_runs

__all__ = [
    "KERNEL",
    "ReportRun",
    "ScheduleEntry",
    "build_index",
    "clear_stale",
    "collect_runs",
    "crontab_lines",
    "load_schedule",
    "next_runs",
    "notebook_path",
    "report_names",
    "run_report",
    "unfinished_runs",
]
