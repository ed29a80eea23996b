"""The report schedule as Airflow DAGs: ``opskit schedule export --airflow DIR``.

:func:`write_dag_file` writes one Python file holding one DAG per job of
``reports/schedule.toml`` (``opskit_<job id>``), scheduled by the job's cron
expression in UTC, with one task per matrix combination (one task for a job
without a matrix). Each task is a ``BashOperator`` running the command the
opskit scheduler runs for the same slot::

    opskit report run executive_summary -p days=30 -p region=brazil \\
        --run-id sched-{{ logical_date.strftime('%H%M') }}-region-brazil --date {{ ds }}

so its run lands in the folder the scheduler would write
(``reports/executive_summary/<date>/sched-0600-region-brazil/``), and a retry, a
cleared task or another executor rewrites that folder instead of adding one.

How the scheduler's rules map to Airflow:

- **slots**: ``CronTriggerTimetable(cron, timezone="UTC")``, so a run's
  ``logical_date`` is the slot itself (not the start of the interval before it)
  and ``ds`` is the slot's date, as in the scheduler;
- **catch-up once**: ``catchup=False``; **no double start**: ``max_active_runs=1``;
- **retries**: ``retries``; ``retry_delay`` is ``retry_backoff_s``, doubled per
  retry (``retry_exponential_backoff``) up to one hour (Airflow adds a jitter of
  up to one more delay);
- **timeout**: ``execution_timeout`` is ``timeout_s`` (the wall clock of one attempt).

Left to opskit's own scheduler: publishing to Confluence (``publish = true``;
a task only runs the report), the ``schedule`` block in ``run.json``, and
not retrying bad parameters (the export checks every job's parameters first).

The file imports Airflow and the standard library only: Airflow workers need
the ``opskit`` command on their ``PATH`` (or an absolute ``opskit`` path), never
the opskit package in Airflow's environment.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opskit.errors import ConfigError
from opskit.reports import layout
from opskit.reports.matrix import safe_name
from opskit.reports.schedule import MAX_BACKOFF_S, ScheduleEntry, report_command

__all__ = ["DEFAULT_PREFIX", "dag_file_name", "dag_source", "task_command", "write_dag_file"]

#: DAG ids are ``<prefix>_<job id>``.
DEFAULT_PREFIX = "opskit"
#: The slot's time of day in a run id, as the scheduler writes it (``sched-HHMM``).
RUN_ID_TEMPLATE = "sched-{{ logical_date.strftime('%H%M') }}"
_JINJA_MARKS = ("{{", "{%", "{#")


def _literal(text: str) -> str:
    """``text`` as Jinja renders it back unchanged."""
    if not any(mark in text for mark in _JINJA_MARKS):
        return text
    if "{% endraw %}" in text:
        raise ConfigError(f"cannot export a command containing '{{% endraw %}}': {text!r}")
    return "{% raw %}" + text + "{% endraw %}"


def task_command(entry: ScheduleEntry, *, opskit: str = "opskit") -> str:
    """The task's ``bash_command``: ``opskit report run`` with the slot's run id and date.

    Airflow renders it with Jinja; what comes out is the command the opskit
    scheduler runs for that slot.

    Examples
    --------
    >>> job = ScheduleEntry("executive_summary", "0 6 * * *", {"region": "brazil"},
    ...                     matrix={"region": "brazil"})
    >>> print(task_command(job))
    opskit report run executive_summary -p region=brazil --run-id sched-{{ logical_date.strftime('%H%M') }}-region-brazil --date {{ ds }}
    """
    run_id = f"{RUN_ID_TEMPLATE}-{entry.run_label}" if entry.run_label else RUN_ID_TEMPLATE
    if entry.run_label and shlex.quote(entry.run_label) != entry.run_label:
        run_id = f"{RUN_ID_TEMPLATE}-" + _literal(shlex.quote(entry.run_label))
    static = _literal(shlex.join(report_command(entry, opskit=opskit)))
    return f"{static} --run-id {run_id} --date {{{{ ds }}}}"


def _check_prefix(prefix: str) -> str:
    if safe_name(prefix) != prefix:
        raise ConfigError(f"DAG prefix {prefix!r} may hold only letters, digits, '.', '_' and '-'")
    return prefix


def dag_file_name(prefix: str = DEFAULT_PREFIX) -> str:
    """The file :func:`write_dag_file` writes (``opskit_dags.py``)."""
    return f"{_check_prefix(prefix)}_dags.py"


def _dags(
    entries: Sequence[ScheduleEntry], *, prefix: str, opskit: str
) -> dict[str, dict[str, Any]]:
    dags: dict[str, dict[str, Any]] = {}
    for e in entries:
        dag_id = f"{prefix}_{safe_name(e.base_key)}"
        dag = dags.setdefault(dag_id, {
            "cron": e.cron,
            "description": f"opskit report {e.name} ({e.cron} UTC)",
            "tasks": [],
        })  # fmt: skip
        if dag["cron"] != e.cron:  # load_schedule gives one job id one cron; a list may not
            raise ConfigError(
                f"job {e.base_key!r} has two cron expressions; give them distinct ids"
            )
        note = " Publishing to Confluence is left to `opskit schedule run`." if e.publish else ""
        dag["tasks"].append({
            "task_id": e.slug,
            "command": task_command(e, opskit=opskit),
            "retries": e.retries,
            "retry_backoff_s": e.retry_backoff_s,
            "timeout_s": e.timeout_s,
            "doc": f"opskit job `{e.key}`: report {e.name}, parameters {e.parameters}.{note}",
        })  # fmt: skip
    return dags


_TEMPLATE = '''\
"""Airflow DAGs of the opskit report schedule ({source}).

Generated by `opskit schedule export --airflow`: do not edit, change the schedule
and export again. One DAG per job, one task per matrix combination. Each task runs
the `opskit report run` command the opskit scheduler runs for the same slot, into
the same run folder (reports/<name>/<date>/sched-<HHMM>[-<label>]/), so retries
are idempotent. Workers need the `opskit` command on their PATH; this file
imports no opskit code.
"""

from __future__ import annotations

import datetime

from airflow import DAG
from airflow.timetables.trigger import CronTriggerTimetable

try:  # Airflow 3: the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

START_DATE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
MAX_RETRY_DELAY = datetime.timedelta(seconds={max_backoff!r})
#: Environment added to the workers' own for every task (None: theirs as it is).
ENV = {env!r}

#: dag_id: cron (UTC), description, and tasks (their commands are Jinja templates).
JOBS = {jobs}

for _dag_id, _job in JOBS.items():
    with DAG(
        _dag_id,
        schedule=CronTriggerTimetable(_job["cron"], timezone="UTC"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        description=_job["description"],
        tags=["opskit"],
    ) as _dag:
        for _task in _job["tasks"]:
            BashOperator(
                task_id=_task["task_id"],
                bash_command=_task["command"],
                retries=_task["retries"],
                retry_delay=datetime.timedelta(seconds=_task["retry_backoff_s"]),
                retry_exponential_backoff=_task["retry_backoff_s"] > 0,
                max_retry_delay=MAX_RETRY_DELAY,
                execution_timeout=datetime.timedelta(seconds=_task["timeout_s"]),
                env=ENV,
                append_env=True,
                doc_md=_task["doc"],
            )
    globals()[_dag_id] = _dag
'''


def dag_source(
    entries: Sequence[ScheduleEntry],
    *,
    source: str = "reports/schedule.toml",
    prefix: str = DEFAULT_PREFIX,
    opskit: str = "opskit",
    home: str | None = None,
) -> str:
    """The text of the DAG file for ``entries`` (see the module docstring).

    Parameters
    ----------
    entries
        The jobs, as :func:`opskit.reports.schedule.load_schedule` returns them.
    source
        Where the schedule came from (named in the file's docstring).
    prefix
        DAG ids are ``<prefix>_<job id>``.
    opskit
        The command the tasks run (``opskit`` on the workers' ``PATH`` by default).
    home
        ``OPSKIT_HOME`` for the tasks (default: the workers' own environment).

    Examples
    --------
    >>> text = dag_source([ScheduleEntry("service_health", "5 * * * *", retries=1)])
    >>> [line.strip() for line in text.splitlines() if line.lstrip().startswith(('"cron"', '"task_id"'))]
    ['"cron": "5 * * * *",', '"task_id": "service_health",']
    >>> "import opskit" in text
    False
    """
    dags = _dags(entries, prefix=_check_prefix(prefix), opskit=opskit)
    return _TEMPLATE.format(
        source=source,
        max_backoff=MAX_BACKOFF_S,
        env={"OPSKIT_HOME": home} if home else None,
        jobs=json.dumps(dags, indent=4),  # str, int and float only: a Python literal too
    )


def write_dag_file(
    entries: Sequence[ScheduleEntry],
    folder: Path,
    *,
    source: str = "reports/schedule.toml",
    prefix: str = DEFAULT_PREFIX,
    opskit: str = "opskit",
    home: str | None = None,
) -> Path:
    """Write the DAG file into ``folder`` (Airflow's DAGs folder), atomically.

    Returns the file, ``<folder>/<prefix>_dags.py``; an earlier export is
    replaced, so DAGs of jobs removed from the schedule go away with it.
    """
    text = dag_source(entries, source=source, prefix=prefix, opskit=opskit, home=home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / dag_file_name(prefix)
    return layout.write_atomic(path, text)  # its temporary file is not *.py: Airflow skips it
